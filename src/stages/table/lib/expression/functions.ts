// The function table: every function the language knows, with its type rule (check, at compile
// time) and its kernel (run, over whole columns). Unless a function says otherwise, a null argument
// gives a null result. README.md lists the same functions for workflow authors.
import { Int32 } from 'apache-arrow';
import { NONE, select } from './kernels.ts';
import { civilPart, daysAndHours } from './temporal.ts';
import { bool, categoryOf, float64, int64, utf8, type Checker, type Info, type Typed } from './typing.ts';
import {
  allValid, bigs, decoder, INT64_MAX, INT64_MIN, scalarValue, strFromStrings, type BigVec, type BoolVec, type NumArray, type NumVec, type StrVec, type Valid, type Vec,
} from './vectors.ts';

export interface FunctionDef {
  name: string;
  /** For docs and messages: `round(x[, digits])`. */
  signature: string;
  description: string;
  example: string;
  minArgs: number;
  maxArgs: number;
  /** Looks at nulls itself (is_null, coalesce, if); otherwise a null-typed argument makes the result null. */
  handlesNulls?: boolean;
  /** Checks the (already typed) arguments; may convert them, and may pass options to run. */
  check(args: Typed[], c: Checker): { info: Info; args?: Typed[]; options?: unknown };
  /** n rows of output; an argument may be a scalar (one value for every row). */
  run(args: Vec[], n: number, info: Info, options: unknown, overflow: () => Error): Vec;
}

const num = (values: NumArray, valid: Valid): NumVec => ({ repr: 'num', values, valid, scalar: false });

// ---- numbers -------------------------------------------------------------------------------

type MathName = 'sqrt' | 'log' | 'log10' | 'exp' | 'floor' | 'ceil' | 'abs';

/** One loop per function, so each stays monomorphic. */
function mathLoop(name: MathName, x: NumArray, n: number): Float64Array {
  const out = new Float64Array(n);
  switch (name) {
    case 'sqrt': for (let i = 0; i < n; i++) out[i] = Math.sqrt(x[i]); break;
    case 'log': for (let i = 0; i < n; i++) out[i] = Math.log(x[i]); break;
    case 'log10': for (let i = 0; i < n; i++) out[i] = Math.log10(x[i]); break;
    case 'exp': for (let i = 0; i < n; i++) out[i] = Math.exp(x[i]); break;
    case 'floor': for (let i = 0; i < n; i++) out[i] = Math.floor(x[i]); break;
    case 'ceil': for (let i = 0; i < n; i++) out[i] = Math.ceil(x[i]); break;
    case 'abs': for (let i = 0; i < n; i++) out[i] = Math.abs(x[i]); break;
  }
  return out;
}

/** sqrt, log, log10, exp: any number in, float64 out (IEEE: sqrt(-1) and log(-1) are NaN, log(0) is -Infinity). */
function floatMath(name: 'sqrt' | 'log' | 'log10' | 'exp', description: string, example: string): FunctionDef {
  return {
    name, signature: `${name}(x)`, description, example, minArgs: 1, maxArgs: 1,
    check: ([x], c) => {
      c.requireNumber(x, `${name}()`);
      const info = float64();
      return { info, args: [c.as(x, info)] };
    },
    run: ([x], n) => num(mathLoop(name, (x as NumVec).values, n), allValid([x], n)),
  };
}

/** abs, floor, ceil: integers stay integers (int64), floats give float64. */
function sameKindMath(name: 'abs' | 'floor' | 'ceil', description: string, example: string): FunctionDef {
  return {
    name, signature: `${name}(x)`, description, example, minArgs: 1, maxArgs: 1,
    check: ([x], c) => {
      c.requireNumber(x, `${name}()`);
      if (categoryOf(x.type) === 'int') return { info: int64(x.bound, x.repr === 'num') };
      const info = float64();
      return { info, args: [c.as(x, info)] };
    },
    run: ([x], n, info, _options, overflow) => {
      const valid = allValid([x], n);
      if (x.repr === 'big') {
        const src = bigs(x, valid, overflow);
        if (name !== 'abs') return { repr: 'big', values: src, valid, scalar: false };
        const out = new BigInt64Array(n);
        for (let i = 0; i < n; i++) {
          if (valid && !valid[i]) continue;
          if (src[i] === INT64_MIN) throw overflow();
          out[i] = src[i] < 0n ? -src[i] : src[i];
        }
        return { repr: 'big', values: out, valid, scalar: false };
      }
      // Integers held as numbers: floor and ceil change nothing.
      const values = (x as NumVec).values;
      if (categoryOf(info.type) === 'int' && name !== 'abs') return num(values, valid);
      return num(mathLoop(name, values, n), valid);
    },
  };
}

/** round half away from zero to `digits` decimals; floats only (integers are handled exactly apart). */
function roundFloat(x: NumArray, n: number, digits: number): Float64Array {
  const out = new Float64Array(n);
  if (digits >= 0) {
    const f = 10 ** digits;
    for (let i = 0; i < n; i++) {
      const v = x[i];
      const a = Math.abs(v) * f;
      // Beyond 2^52 a double has no fraction left at this scale.
      out[i] = a >= 4503599627370496 ? v : (v < 0 ? -Math.round(a) : Math.round(a)) / f;
    }
  } else {
    const m = 10 ** -digits;
    for (let i = 0; i < n; i++) {
      const v = x[i];
      const r = Math.round(Math.abs(v) / m) * m;
      out[i] = v < 0 ? -r : r;
    }
  }
  return out;
}

const round: FunctionDef = {
  name: 'round', signature: 'round(x[, digits])',
  description: 'rounds half away from zero to `digits` decimals (default 0; negative rounds to tens, hundreds, ...); digits must be an integer literal',
  example: 'round(price, 2)', minArgs: 1, maxArgs: 2,
  check: ([x, d], c) => {
    c.requireNumber(x, 'round()');
    let digits = 0;
    if (d) {
      const value = d.kind === 'const' ? scalarValue(d.vec) : undefined;
      if (categoryOf(d.type) !== 'int' || value === undefined || value === null || Number(value) < -308 || Number(value) > 308) {
        throw c.fail(`round(): digits must be an integer literal between -308 and 308, not '${d.source}'`, d.pos);
      }
      digits = Number(value);
    }
    if (categoryOf(x.type) === 'int') {
      // Rounding an integer to tens etc. may move it up by less than 10^-digits.
      const step = digits < 0 ? 10 ** -digits : 0;
      const info = int64(x.bound + step, x.repr === 'num');
      return { info, args: [c.as(x, info)], options: digits };
    }
    const info = float64();
    return { info, args: [c.as(x, info)], options: digits };
  },
  run: ([x], n, info, options, overflow) => {
    const digits = options as number;
    const valid = allValid([x], n);
    if (categoryOf(info.type) !== 'int') return num(roundFloat((x as NumVec).values, n, digits), valid);
    if (digits >= 0) return x.repr === 'big' ? { repr: 'big', values: bigs(x as BigVec, valid, overflow), valid, scalar: false } : num((x as NumVec).values, valid);
    if (x.repr === 'num') {
      // Exact: every value here is an integer below 2^53.
      const m = 10 ** -digits;
      const src = (x as NumVec).values;
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const r = src[i] % m;
        const q = src[i] - r;
        out[i] = 2 * Math.abs(r) >= m ? q + Math.sign(r) * m : q;
      }
      return num(out, valid);
    }
    const m = 10n ** BigInt(-digits);
    const src = bigs(x as BigVec, valid, overflow);
    const out = new BigInt64Array(n);
    for (let i = 0; i < n; i++) {
      if (valid && !valid[i]) continue;
      const r = src[i] % m;
      let q = src[i] - r;
      if (2n * (r < 0n ? -r : r) >= m) q += r < 0n ? -m : m;
      if (q > INT64_MAX || q < INT64_MIN) throw overflow();
      out[i] = q;
    }
    return { repr: 'big', values: out, valid, scalar: false };
  },
};

const pow: FunctionDef = {
  name: 'pow', signature: 'pow(x, y)', description: 'x to the power y, as float64', example: 'pow(1 + rate, years)', minArgs: 2, maxArgs: 2,
  check: (args, c) => {
    for (const a of args) c.requireNumber(a, 'pow()');
    const info = float64();
    return { info, args: args.map((a) => c.as(a, info)) };
  },
  run: ([x, y], n) => {
    const a = (x as NumVec).values;
    const b = (y as NumVec).values;
    const out = new Float64Array(n);
    if (y.scalar) {
      const e = b[0];
      if (e === 2) for (let i = 0; i < n; i++) out[i] = a[i] * a[i];
      else for (let i = 0; i < n; i++) out[i] = a[i] ** e;
    } else if (x.scalar) {
      const base = a[0];
      for (let i = 0; i < n; i++) out[i] = base ** b[i];
    } else {
      for (let i = 0; i < n; i++) out[i] = a[i] ** b[i];
    }
    return num(out, allValid([x, y], n));
  },
};

/** min and max of two or more values, row by row (a null anywhere gives null, NaN gives NaN). */
function extreme(name: 'min' | 'max'): FunctionDef {
  return {
    name, signature: `${name}(a, b, ...)`,
    description: `the ${name === 'min' ? 'smallest' : 'largest'} of its arguments in each row (numbers, or timestamps/dates of one type)`,
    example: name === 'min' ? 'min(bid, ask)' : 'max(high, close, 0)', minArgs: 2, maxArgs: Infinity,
    check: (args, c) => {
      const { info, args: converted } = c.unify(args, `${name}()`, ['int', 'float', 'temporal']);
      return { info, args: converted };
    },
    run: (args, n) => {
      const valid = allValid(args, n);
      if (args[0].repr === 'big') {
        const out = new BigInt64Array(n);
        const first = args[0] as BigVec;
        for (let i = 0; i < n; i++) out[i] = first.values[first.scalar ? 0 : i];
        for (const arg of args.slice(1) as BigVec[]) {
          const s = arg.scalar ? 0 : 1;
          const v = arg.values;
          if (name === 'min') for (let i = 0; i < n; i++) { if (v[i * s] < out[i]) out[i] = v[i * s]; }
          else for (let i = 0; i < n; i++) { if (v[i * s] > out[i]) out[i] = v[i * s]; }
        }
        return { repr: 'big', values: out, valid, scalar: false };
      }
      const out = new Float64Array(n);
      const first = args[0] as NumVec;
      if (first.scalar) out.fill(first.values[0]);
      else out.set(first.values.subarray(0, n));
      for (const arg of args.slice(1) as NumVec[]) {
        const v = arg.values;
        if (arg.scalar) {
          const y = v[0];
          if (name === 'min') for (let i = 0; i < n; i++) out[i] = Math.min(out[i], y);
          else for (let i = 0; i < n; i++) out[i] = Math.max(out[i], y);
        } else if (name === 'min') for (let i = 0; i < n; i++) out[i] = Math.min(out[i], v[i]);
        else for (let i = 0; i < n; i++) out[i] = Math.max(out[i], v[i]);
      }
      return num(out, valid);
    },
  };
}

// ---- nulls and choices ---------------------------------------------------------------------

const isNull: FunctionDef = {
  name: 'is_null', signature: 'is_null(x)', description: 'true where x is null, else false (never null); any column type', example: 'not is_null(volume)',
  minArgs: 1, maxArgs: 1, handlesNulls: true,
  check: () => ({ info: bool() }),
  run: ([x], n) => {
    const m = x.scalar ? 1 : n;
    const values = new Uint8Array(m);
    if (x.valid) for (let i = 0; i < m; i++) values[i] = x.valid[i] ^ 1;
    return { repr: 'bool', values, valid: null, scalar: x.scalar };
  },
};

/** A test of each value of a number column; integers give `integers` without being looked at. */
function floatTest(name: string, description: string, example: string, test: (v: number) => boolean, integers: 0 | 1): FunctionDef {
  return {
    name, signature: `${name}(x)`, description, example, minArgs: 1, maxArgs: 1,
    check: ([x], c) => {
      c.requireNumber(x, `${name}()`);
      const integer = categoryOf(x.type) === 'int';
      return { info: bool(), args: [integer ? x : c.as(x, float64())], options: integer };
    },
    run: ([x], n, _info, integer) => {
      const values = new Uint8Array(n).fill(integers);
      if (!integer && x.repr === 'num') {
        const v = x.values;
        for (let i = 0; i < n; i++) values[i] = test(v[i]) ? 1 : 0;
      }
      return { repr: 'bool', values, valid: allValid([x], n), scalar: false };
    },
  };
}

const isNan = floatTest('is_nan', 'true where x is NaN (not a number); integers are never NaN', 'not is_nan(ratio)', (v) => v !== v, 0);
const isFiniteFn = floatTest('is_finite', 'true where x is a finite number (not NaN, not ±infinity); integers always are', 'is_finite(close)', Number.isFinite, 1);

const coalesce: FunctionDef = {
  name: 'coalesce', signature: 'coalesce(a, b, ...)', description: 'the first argument that is not null, in each row (null if all are)',
  example: 'coalesce(adj_close, close)', minArgs: 1, maxArgs: 254, handlesNulls: true,
  check: (args, c) => c.unify(args, 'coalesce()', ['int', 'float', 'bool', 'str', 'temporal']),
  run: (args, n) => {
    const choice = new Uint8Array(n).fill(NONE);
    for (let k = args.length - 1; k >= 0; k--) {
      // Later arguments first, so earlier ones overwrite: the first valid one wins.
      const arg = args[k];
      if (!arg.valid) choice.fill(k);
      else if (arg.scalar) { if (arg.valid[0]) choice.fill(k); }
      else for (let i = 0; i < n; i++) if (arg.valid[i]) choice[i] = k;
    }
    return select(choice, args, n);
  },
};

const ifFn: FunctionDef = {
  name: 'if', signature: 'if(cond, a, b)', description: 'a where cond is true, else b (a null cond counts as false)',
  example: "if(close >= open, 'up', 'down')", minArgs: 3, maxArgs: 3, handlesNulls: true,
  check: ([cond, a, b], c) => {
    const cat = categoryOf(cond.type);
    if (cat !== 'bool' && cat !== 'null') throw c.wrongType(cond, 'a bool', 'the condition of if()');
    const { info, args } = c.unify([a, b], 'if()', ['int', 'float', 'bool', 'str', 'temporal']);
    return { info, args: [c.as(cond, bool()), ...args] };
  },
  run: ([cond, a, b], n) => {
    const cv = cond as BoolVec;
    const choice = new Uint8Array(n);
    const s = cv.scalar ? 0 : 1;
    for (let i = 0; i < n; i++) choice[i] = cv.values[i * s] & (cv.valid ? cv.valid[i * s] : 1) ? 0 : 1;
    return select(choice, [a, b], n);
  },
};

// ---- strings -------------------------------------------------------------------------------

function requireString(x: Typed, c: Checker, what: string) {
  const cat = categoryOf(x.type);
  if (cat !== 'str' && cat !== 'null') throw c.wrongType(x, 'a string', what);
}

function changeCase(name: 'lower' | 'upper'): FunctionDef {
  return {
    name, signature: `${name}(s)`, description: `s in ${name} case (Unicode rules)`, example: `${name}(ticker) == '${name === 'lower' ? 'aapl' : 'AAPL'}'`,
    minArgs: 1, maxArgs: 1,
    check: ([x], c) => {
      requireString(x, c, `${name}()`);
      return { info: utf8(), args: [c.as(x, utf8())] };
    },
    run: ([x], n) => {
      const s = x as StrVec;
      const valid = allValid([x], n);
      const start = s.offsets[0];
      const end = s.offsets[n];
      let ascii = true;
      for (let i = start; i < end; i++) if (s.bytes[i] >= 0x80) { ascii = false; break; }
      if (ascii) {
        // Byte-wise: same lengths, so the offsets are shared.
        const bytes = s.bytes.slice(start, end);
        const [from, to, delta] = name === 'lower' ? [0x41, 0x5a, 32] : [0x61, 0x7a, -32];
        for (let i = 0; i < bytes.length; i++) if (bytes[i] >= from && bytes[i] <= to) bytes[i] += delta;
        const offsets = start === 0 ? s.offsets : s.offsets.map((o) => o - start);
        return { repr: 'str', offsets, bytes, valid, scalar: false };
      }
      const strings: (string | null)[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const text = decoder.decode(s.bytes.subarray(s.offsets[i], s.offsets[i + 1]));
        strings[i] = name === 'lower' ? text.toLowerCase() : text.toUpperCase();
      }
      return strFromStrings(strings, valid);
    },
  };
}

const length: FunctionDef = {
  name: 'length', signature: 'length(s)', description: 'the number of characters (Unicode code points) in s, as int32', example: 'length(name) > 3',
  minArgs: 1, maxArgs: 1,
  check: ([x], c) => {
    requireString(x, c, 'length()');
    return { info: { type: new Int32(), repr: 'num', bound: 2 ** 31 }, args: [c.as(x, utf8())] };
  },
  run: ([x], n) => {
    const s = x as StrVec;
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      // Count the bytes that start a character (not 10xxxxxx continuation bytes).
      let count = 0;
      for (let j = s.offsets[i]; j < s.offsets[i + 1]; j++) count += (s.bytes[j] & 0xc0) !== 0x80 ? 1 : 0;
      out[i] = count;
    }
    return num(out, allValid([x], n));
  },
};

// ---- dates and times -----------------------------------------------------------------------

function datePart(name: 'year' | 'month' | 'day' | 'hour', description: string): FunctionDef {
  return {
    name, signature: `${name}(t)`, description, example: name === 'year' ? 'year(date) >= 2020' : name === 'hour' ? 'hour(time) < 12' : `${name}(date) == 1`,
    minArgs: 1, maxArgs: 1,
    check: ([t], c) => {
      const cat = categoryOf(t.type);
      if (cat !== 'temporal' && cat !== 'null') throw c.wrongType(t, 'a timestamp or date', `${name}()`);
      return { info: { type: new Int32(), repr: 'num', bound: 2 ** 31 }, options: t.type };
    },
    run: ([t], n, _info, type) => {
      const valid = allValid([t], n);
      const { days, hours } = daysAndHours(t as NumVec | BigVec, type as never, n, name === 'hour');
      return num(name === 'hour' ? hours! : civilPart(days, name, n), valid);
    },
  };
}

// ---- the table -----------------------------------------------------------------------------

const all: FunctionDef[] = [
  sameKindMath('abs', 'the absolute value (integers stay integers)', 'abs(close - open)'),
  floatMath('sqrt', 'the square root, as float64 (NaN for negative numbers)', 'sqrt(variance)'),
  floatMath('log', 'the natural logarithm, as float64 (log(0) = -Infinity, negative -> NaN)', 'log(close / open)'),
  floatMath('log10', 'the base-10 logarithm, as float64', 'log10(volume)'),
  floatMath('exp', 'e to the power x, as float64', 'exp(log_return)'),
  pow,
  sameKindMath('floor', 'the largest integer not above x (integers unchanged)', 'floor(price)'),
  sameKindMath('ceil', 'the smallest integer not below x (integers unchanged)', 'ceil(price)'),
  round,
  extreme('min'),
  extreme('max'),
  isNull,
  isNan,
  isFiniteFn,
  coalesce,
  ifFn,
  changeCase('lower'),
  changeCase('upper'),
  length,
  datePart('year', 'the year of a timestamp or date (UTC), as int32'),
  datePart('month', 'the month, 1 to 12 (UTC), as int32'),
  datePart('day', 'the day of the month, 1 to 31 (UTC), as int32'),
  datePart('hour', 'the hour, 0 to 23 (UTC), as int32; 0 for dates'),
];

export const functions = new Map(all.map((f) => [f.name, f]));

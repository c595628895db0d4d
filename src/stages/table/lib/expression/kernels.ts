// The loops: one per operator and operand shape (column with column, column with constant), written
// out so each stays monomorphic and fast. No kernel looks at types; the checker has already chosen
// which kernel a node uses and converted its operands.
import type { ArithmeticOp, ComparisonOp } from './parser.ts';
import { INT64_MAX, INT64_MIN, type BigArray, type BoolVec, type NumArray, type StrVec, type Valid, type Vec } from './vectors.ts';

// ---- arithmetic on numbers -----------------------------------------------------------------

/**
 * `a op b` on JS numbers. A scalar side holds one value; when both are scalars, n is 1.
 * Used for float arithmetic and for integer arithmetic proven (by the checker) to stay exact.
 */
export function arithNum(op: ArithmeticOp, a: NumArray, aScalar: boolean, b: NumArray, bScalar: boolean, n: number,
  out: Float64Array<ArrayBufferLike> = new Float64Array(n)): Float64Array<ArrayBufferLike> {
  // `out` may be `a` or `b` itself: row i is read before it is written.
  if (bScalar && !aScalar) {
    const y = b[0];
    switch (op) {
      case '+': for (let i = 0; i < n; i++) out[i] = a[i] + y; break;
      case '-': for (let i = 0; i < n; i++) out[i] = a[i] - y; break;
      case '*': for (let i = 0; i < n; i++) out[i] = a[i] * y; break;
      case '/': for (let i = 0; i < n; i++) out[i] = a[i] / y; break;
      case '%': for (let i = 0; i < n; i++) out[i] = a[i] % y; break;
    }
  } else if (aScalar && !bScalar) {
    const x = a[0];
    switch (op) {
      case '+': for (let i = 0; i < n; i++) out[i] = x + b[i]; break;
      case '-': for (let i = 0; i < n; i++) out[i] = x - b[i]; break;
      case '*': for (let i = 0; i < n; i++) out[i] = x * b[i]; break;
      case '/': for (let i = 0; i < n; i++) out[i] = x / b[i]; break;
      case '%': for (let i = 0; i < n; i++) out[i] = x % b[i]; break;
    }
  } else {
    switch (op) {
      case '+': for (let i = 0; i < n; i++) out[i] = a[i] + b[i]; break;
      case '-': for (let i = 0; i < n; i++) out[i] = a[i] - b[i]; break;
      case '*': for (let i = 0; i < n; i++) out[i] = a[i] * b[i]; break;
      case '/': for (let i = 0; i < n; i++) out[i] = a[i] / b[i]; break;
      case '%': for (let i = 0; i < n; i++) out[i] = a[i] % b[i]; break;
    }
  }
  return out;
}

/** Integer `%` makes rows with a zero divisor null (floats follow IEEE instead: NaN). */
export function nullWhereZero(divisor: NumArray | BigArray, scalar: boolean, valid: Valid, n: number): Valid {
  if (scalar) return divisor[0] == 0 ? new Uint8Array(n) : valid;
  let out: Uint8Array | null = null;
  for (let i = 0; i < n; i++) {
    if (divisor[i] == 0) {
      out ??= valid ? valid.slice() : new Uint8Array(n).fill(1);
      out[i] = 0;
    }
  }
  return out ?? valid;
}

// ---- arithmetic on 64-bit integers ---------------------------------------------------------

/**
 * Exact int64 `a op b` (op one of + - * %), with BigInt. Null rows are skipped (their values may be
 * anything); a result outside int64 throws `overflow()` when `check` is set (the checker leaves it
 * off where the operand ranges make overflow impossible). `%` by zero is left to nullWhereZero.
 */
export function arithBig(op: ArithmeticOp, a: BigInt64Array, aScalar: boolean, b: BigInt64Array, bScalar: boolean, n: number,
  valid: Valid, check: boolean, overflow: () => Error): BigInt64Array {
  const out = new BigInt64Array(n);
  const sa = aScalar ? 0 : 1;
  const sb = bScalar ? 0 : 1;
  if ((op === '+' || op === '-') && !check && !valid) {
    // The common case, without the per-row branches.
    if (op === '+') for (let i = 0; i < n; i++) out[i] = a[i * sa] + b[i * sb];
    else for (let i = 0; i < n; i++) out[i] = a[i * sa] - b[i * sb];
    return out;
  }
  for (let i = 0; i < n; i++) {
    if (valid && !valid[i]) continue;
    const x = a[i * sa];
    const y = b[i * sb];
    let r: bigint;
    switch (op) {
      case '+': r = x + y; break;
      case '-': r = x - y; break;
      case '*': r = x * y; break;
      default: r = y === 0n ? 0n : x % y; break;
    }
    if (check && (r > INT64_MAX || r < INT64_MIN)) throw overflow();
    out[i] = r;
  }
  return out;
}

export function negateBig(a: BigInt64Array, n: number, valid: Valid, overflow: () => Error): BigInt64Array {
  const out = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    if (valid && !valid[i]) continue;
    if (a[i] === INT64_MIN) throw overflow();
    out[i] = -a[i];
  }
  return out;
}

// ---- comparisons ---------------------------------------------------------------------------

/** `x op y` is `y flip(op) x`. */
export const flip: Record<ComparisonOp, ComparisonOp> = { '==': '==', '!=': '!=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

/** Comparison of numbers; a scalar left side is handled by flipping the operator. */
export function compareNum(op: ComparisonOp, a: NumArray, aScalar: boolean, b: NumArray, bScalar: boolean, n: number): Uint8Array {
  if (aScalar && !bScalar) return compareNum(flip[op], b, false, a, true, n);
  const out = new Uint8Array(n);
  if (bScalar) {
    const y = b[0];
    switch (op) {
      case '==': for (let i = 0; i < n; i++) out[i] = a[i] === y ? 1 : 0; break;
      case '!=': for (let i = 0; i < n; i++) out[i] = a[i] !== y ? 1 : 0; break;
      case '<': for (let i = 0; i < n; i++) out[i] = a[i] < y ? 1 : 0; break;
      case '<=': for (let i = 0; i < n; i++) out[i] = a[i] <= y ? 1 : 0; break;
      case '>': for (let i = 0; i < n; i++) out[i] = a[i] > y ? 1 : 0; break;
      case '>=': for (let i = 0; i < n; i++) out[i] = a[i] >= y ? 1 : 0; break;
    }
  } else {
    switch (op) {
      case '==': for (let i = 0; i < n; i++) out[i] = a[i] === b[i] ? 1 : 0; break;
      case '!=': for (let i = 0; i < n; i++) out[i] = a[i] !== b[i] ? 1 : 0; break;
      case '<': for (let i = 0; i < n; i++) out[i] = a[i] < b[i] ? 1 : 0; break;
      case '<=': for (let i = 0; i < n; i++) out[i] = a[i] <= b[i] ? 1 : 0; break;
      case '>': for (let i = 0; i < n; i++) out[i] = a[i] > b[i] ? 1 : 0; break;
      case '>=': for (let i = 0; i < n; i++) out[i] = a[i] >= b[i] ? 1 : 0; break;
    }
  }
  return out;
}

/** The same for 64-bit integers (a copy of compareNum so each loop sees one element kind). */
export function compareBig(op: ComparisonOp, a: BigArray, aScalar: boolean, b: BigArray, bScalar: boolean, n: number): Uint8Array {
  if (aScalar && !bScalar) return compareBig(flip[op], b, false, a, true, n);
  const out = new Uint8Array(n);
  if (bScalar) {
    const y = b[0];
    switch (op) {
      case '==': for (let i = 0; i < n; i++) out[i] = a[i] === y ? 1 : 0; break;
      case '!=': for (let i = 0; i < n; i++) out[i] = a[i] !== y ? 1 : 0; break;
      case '<': for (let i = 0; i < n; i++) out[i] = a[i] < y ? 1 : 0; break;
      case '<=': for (let i = 0; i < n; i++) out[i] = a[i] <= y ? 1 : 0; break;
      case '>': for (let i = 0; i < n; i++) out[i] = a[i] > y ? 1 : 0; break;
      case '>=': for (let i = 0; i < n; i++) out[i] = a[i] >= y ? 1 : 0; break;
    }
  } else {
    switch (op) {
      case '==': for (let i = 0; i < n; i++) out[i] = a[i] === b[i] ? 1 : 0; break;
      case '!=': for (let i = 0; i < n; i++) out[i] = a[i] !== b[i] ? 1 : 0; break;
      case '<': for (let i = 0; i < n; i++) out[i] = a[i] < b[i] ? 1 : 0; break;
      case '<=': for (let i = 0; i < n; i++) out[i] = a[i] <= b[i] ? 1 : 0; break;
      case '>': for (let i = 0; i < n; i++) out[i] = a[i] > b[i] ? 1 : 0; break;
      case '>=': for (let i = 0; i < n; i++) out[i] = a[i] >= b[i] ? 1 : 0; break;
    }
  }
  return out;
}

/** -1, 0 or 1 as `x` is below, equal to or above `y`. */
const order = (x: number | bigint, y: number | bigint) => (x < y ? -1 : x > y ? 1 : x == y ? 0 : NaN);

function test(op: ComparisonOp, c: number): number {
  // NaN (an IEEE NaN was involved) is unordered: only != holds.
  if (c !== c) return op === '!=' ? 1 : 0;
  switch (op) {
    case '==': return c === 0 ? 1 : 0;
    case '!=': return c !== 0 ? 1 : 0;
    case '<': return c < 0 ? 1 : 0;
    case '<=': return c <= 0 ? 1 : 0;
    case '>': return c > 0 ? 1 : 0;
    case '>=': return c >= 0 ? 1 : 0;
  }
}

/**
 * Exact comparison of 64-bit integers with numbers (JS compares bigint with number exactly), or
 * of integers each multiplied by a factor (timestamps of different units, brought to the finer).
 */
export function compareMixed(op: ComparisonOp, a: NumArray | BigArray, aScalar: boolean, b: NumArray | BigArray, bScalar: boolean, n: number,
  scale?: [bigint, bigint]): Uint8Array {
  const out = new Uint8Array(n);
  const sa = aScalar ? 0 : 1;
  const sb = bScalar ? 0 : 1;
  if (scale) {
    const [fa, fb] = scale;
    for (let i = 0; i < n; i++) out[i] = test(op, order(BigInt(a[i * sa]) * fa, BigInt(b[i * sb]) * fb));
  } else {
    for (let i = 0; i < n; i++) out[i] = test(op, order(a[i * sa], b[i * sb]));
  }
  return out;
}

/** Byte-wise comparison of UTF-8, which is code-point order. */
function compareBytes(a: Uint8Array, as: number, ae: number, b: Uint8Array, bs: number, be: number): number {
  const la = ae - as;
  const lb = be - bs;
  const m = la < lb ? la : lb;
  for (let k = 0; k < m; k++) {
    const d = a[as + k] - b[bs + k];
    if (d !== 0) return d;
  }
  return la - lb;
}

export function compareStr(op: ComparisonOp, a: StrVec, b: StrVec, n: number): Uint8Array {
  const out = new Uint8Array(n);
  const sa = a.scalar ? 0 : 1;
  const sb = b.scalar ? 0 : 1;
  const eq = op === '==' || op === '!=';
  for (let i = 0; i < n; i++) {
    const as = a.offsets[i * sa];
    const ae = a.offsets[i * sa + 1];
    const bs = b.offsets[i * sb];
    const be = b.offsets[i * sb + 1];
    // Different lengths are never equal: skip the byte loop.
    const c = eq && ae - as !== be - bs ? 1 : compareBytes(a.bytes, as, ae, b.bytes, bs, be);
    out[i] = test(op, c);
  }
  return out;
}

export function compareBool(op: '==' | '!=', a: BoolVec, b: BoolVec, n: number): Uint8Array {
  const out = new Uint8Array(n);
  const sa = a.scalar ? 0 : 1;
  const sb = b.scalar ? 0 : 1;
  const same = op === '==' ? 1 : 0;
  for (let i = 0; i < n; i++) out[i] = (a.values[i * sa] ^ b.values[i * sb]) ^ same;
  return out;
}

// ---- three-valued logic --------------------------------------------------------------------

/** `a and b` / `a or b` with SQL's rules: false and null = false, true or null = true. */
export function logic(op: 'and' | 'or', a: BoolVec, b: BoolVec, n: number): BoolVec {
  const av = a.values;
  const bv = b.values;
  const sa = a.scalar ? 0 : 1;
  const sb = b.scalar ? 0 : 1;
  // Write over an operand made just for this (row i is read before it is written).
  const out = a.owned && !a.scalar ? av : b.owned && !b.scalar ? bv : new Uint8Array(n);
  if (!a.valid && !b.valid) {
    if (!a.scalar && !b.scalar) {
      if (op === 'and') for (let i = 0; i < n; i++) out[i] = av[i] & bv[i];
      else for (let i = 0; i < n; i++) out[i] = av[i] | bv[i];
    } else if (op === 'and') for (let i = 0; i < n; i++) out[i] = av[i * sa] & bv[i * sb];
    else for (let i = 0; i < n; i++) out[i] = av[i * sa] | bv[i * sb];
    return { repr: 'bool', values: out, valid: null, scalar: false, owned: true };
  }
  const ok = new Uint8Array(n);
  const va = a.valid;
  const vb = b.valid;
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    const x = av[i * sa];
    const y = bv[i * sb];
    const xv = va ? va[i * sa] : 1;
    const yv = vb ? vb[i * sb] : 1;
    if (op === 'and') {
      // Known when both are known, or either is a known false.
      ok[i] = (xv & yv) | (xv & (x ^ 1)) | (yv & (y ^ 1));
      out[i] = x & y & xv & yv;
    } else {
      ok[i] = (xv & yv) | (xv & x) | (yv & y);
      out[i] = (x & xv) | (y & yv);
    }
    nulls += ok[i] ^ 1;
  }
  return { repr: 'bool', values: out, valid: nulls ? ok : null, scalar: false, owned: true };
}

export function not(a: BoolVec, n: number): BoolVec {
  const m = a.scalar ? 1 : n;
  const out = a.owned ? a.values : new Uint8Array(m);
  for (let i = 0; i < m; i++) out[i] = a.values[i] ^ 1;
  return { repr: 'bool', values: out, valid: a.valid, scalar: a.scalar, owned: true };
}

// ---- choosing between values (if, coalesce) ------------------------------------------------

/** Marks a row that takes no value: it is null. */
export const NONE = 255;

/** Row i takes its value from `args[choice[i]]`; args all have one representation. */
export function select(choice: Uint8Array, args: readonly Vec[], n: number): Vec {
  // Validity, one pass per argument over the rows that chose it (NONE rows stay 0: null).
  const valid = new Uint8Array(n);
  for (let k = 0; k < args.length; k++) {
    const arg = args[k];
    if (!arg.valid || (arg.scalar && arg.valid[0])) {
      for (let i = 0; i < n; i++) if (choice[i] === k) valid[i] = 1;
    } else if (!arg.scalar) {
      const v = arg.valid;
      for (let i = 0; i < n; i++) if (choice[i] === k) valid[i] = v[i];
    }
  }
  let nulls = 0;
  for (let i = 0; i < n; i++) nulls += valid[i];
  nulls = n - nulls;
  const v = nulls ? valid : null;
  const repr = args[0].repr;
  if (repr === 'str') {
    const strs = args as readonly StrVec[];
    const offsets = new Int32Array(n + 1);
    let total = 0;
    for (let i = 0; i < n; i++) {
      if (valid[i]) {
        const s = strs[choice[i]];
        const j = s.scalar ? 0 : i;
        total += s.offsets[j + 1] - s.offsets[j];
      }
      offsets[i + 1] = total;
    }
    const bytes = new Uint8Array(total);
    for (let i = 0; i < n; i++) {
      if (!valid[i]) continue;
      const s = strs[choice[i]];
      const j = s.scalar ? 0 : i;
      bytes.set(s.bytes.subarray(s.offsets[j], s.offsets[j + 1]), offsets[i]);
    }
    return { repr: 'str', offsets, bytes, valid: v, scalar: false };
  }
  if (repr === 'none') return { repr: 'none', valid: new Uint8Array(n), scalar: false };
  // Fixed width: one pass per argument over the rows that chose it.
  const values = (repr === 'big' ? new BigInt64Array(n) : repr === 'bool' ? new Uint8Array(n) : new Float64Array(n)) as Float64Array;
  for (let k = 0; k < args.length; k++) {
    const src = (args[k] as { values: Float64Array }).values;
    if (args[k].scalar) {
      const x = src[0];
      for (let i = 0; i < n; i++) if (choice[i] === k) values[i] = x;
    } else {
      for (let i = 0; i < n; i++) if (choice[i] === k) values[i] = src[i];
    }
  }
  return { repr, values, valid: v, scalar: false, owned: true } as Vec;
}

// Numbers and booleans straight from bytes. Integers are exact (beyond 2^53 through BigInt);
// floats are correctly rounded: a decimal whose digits make an integer mantissa up to 2^53, with a
// power of ten up to 22, is one exact IEEE operation (Clinger's fast path); anything else that is
// valid goes to Number() on the text, which rounds correctly.

/** Exact powers of ten as doubles. */
const POW10 = Float64Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

/** Sentinel from `parseInteger`: valid syntax, but too many digits for a double; use `parseBigInteger`. */
export const BIG = Infinity;

/** `[+-]?digits` as a number; NaN when not an integer; BIG when it has more than 15 digits. */
export function parseInteger(buf: Uint8Array, s: number, e: number): number {
  let i = s;
  let negative = false;
  if (i < e) {
    const c = buf[i];
    if (c === 45) {
      negative = true;
      i++;
    } else if (c === 43) i++;
  }
  if (i >= e) return NaN;
  let value = 0;
  let digits = 0;
  while (i < e) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) return NaN;
    if (value !== 0 || d !== 0) digits++;
    value = value * 10 + d;
    i++;
  }
  if (digits > 15) return BIG;
  return negative ? -value : value;
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** The exact value of an integer `parseInteger` called BIG; undefined outside int64. */
export function parseBigInteger(text: string): bigint | undefined {
  const value = BigInt(text.startsWith('+') ? text.slice(1) : text);
  return value < INT64_MIN || value > INT64_MAX ? undefined : value;
}

/**
 * A float64 from decimal text (`-1.5`, `.5`, `3.`, `1e-7`, `NaN`, `inf`, `-Infinity`, any case for
 * the spellings); NaN also when the text is not a number: check `isNaNSpelling` to tell them apart.
 */
export function parseFloat64(buf: Uint8Array, s: number, e: number): number {
  let i = s;
  let negative = false;
  if (i < e) {
    const c = buf[i];
    if (c === 45 || c === 43) {
      negative = c === 45;
      i++;
    }
  }
  // All digits go into the mantissa; while it stays below 2^53 every step was exact.
  let mantissa = 0;
  let d = 0;
  const intStart = i;
  while (i < e && (d = buf[i] - 48) >= 0 && d <= 9) {
    mantissa = mantissa * 10 + d;
    i++;
  }
  let digits = i - intStart;
  let exponent = 0;
  if (i < e && buf[i] === 46) {
    const fractionStart = ++i;
    while (i < e && (d = buf[i] - 48) >= 0 && d <= 9) {
      mantissa = mantissa * 10 + d;
      i++;
    }
    exponent = fractionStart - i;
    digits -= exponent;
  }
  if (digits === 0) return special(buf, i, e, negative);
  if (i < e) return withExponent(buf, s, e, i, mantissa, exponent, negative);
  return scale(buf, s, e, mantissa, exponent, negative);
}

/** The rest of a float after its digits: an exponent, or nothing valid. (Apart, so the hot path stays small enough to inline.) */
function withExponent(buf: Uint8Array, s: number, e: number, at: number, mantissa: number, exponent: number, negative: boolean): number {
  let i = at;
  if ((buf[i] | 0x20) !== 101) return NaN;
  i++;
  let expNegative = false;
  if (i < e && (buf[i] === 45 || buf[i] === 43)) expNegative = buf[i++] === 45;
  if (i >= e) return NaN;
  let value = 0;
  let d = 0;
  while (i < e && (d = buf[i] - 48) >= 0 && d <= 9) {
    if (value < 100_000) value = value * 10 + d;
    i++;
  }
  if (i < e) return NaN;
  return scale(buf, s, e, mantissa, exponent + (expNegative ? -value : value), negative);
}

/** mantissa × 10^exponent, correctly rounded. */
function scale(buf: Uint8Array, s: number, e: number, mantissa: number, exponent: number, negative: boolean): number {
  let result: number;
  if (mantissa > MAX_EXACT) return Number(latin1(buf, s, e));
  if (mantissa === 0) result = 0;
  else if (exponent === 0) result = mantissa;
  else if (exponent < 0 && exponent >= -22) result = mantissa / POW10[-exponent];
  else if (exponent > 0 && exponent <= 22) result = mantissa * POW10[exponent];
  else return Number(latin1(buf, s, e));
  return negative ? -result : result;
}

const MAX_EXACT = 2 ** 53;

/** NaN, inf, infinity (any case) after an optional sign. */
function special(buf: Uint8Array, i: number, e: number, negative: boolean): number {
  const n = e - i;
  if (n === 3) {
    const a = buf[i] | 0x20, b = buf[i + 1] | 0x20, c = buf[i + 2] | 0x20;
    if (a === 110 && b === 97 && c === 110) return NaN; // nan: the caller checks isNaNSpelling
    if (a === 105 && b === 110 && c === 102) return negative ? -Infinity : Infinity;
  } else if (n === 8 && lower(buf, i, e) === 'infinity') return negative ? -Infinity : Infinity;
  return NaN;
}

/** Whether the text is a NaN spelling (`NaN`, `nan`, `-nan`...), as opposed to not a number at all. */
export function isNaNSpelling(buf: Uint8Array, s: number, e: number): boolean {
  let i = s;
  if (i < e && (buf[i] === 45 || buf[i] === 43)) i++;
  return e - i === 3 && (buf[i] | 0x20) === 110 && (buf[i + 1] | 0x20) === 97 && (buf[i + 2] | 0x20) === 110;
}

/** true/false in any case → 1/0; 1 and 0 too unless `wordsOnly`; -1 when neither. */
export function parseBool(buf: Uint8Array, s: number, e: number, wordsOnly = false): number {
  const n = e - s;
  if (n === 4 && lower(buf, s, e) === 'true') return 1;
  if (n === 5 && lower(buf, s, e) === 'false') return 0;
  if (!wordsOnly && n === 1) {
    if (buf[s] === 49) return 1;
    if (buf[s] === 48) return 0;
  }
  return -1;
}

function lower(buf: Uint8Array, s: number, e: number): string {
  let text = '';
  for (let i = s; i < e; i++) text += String.fromCharCode(buf[i] | 0x20);
  return text;
}

/** Bytes as a one-byte-per-char string (the text of a number is ASCII). */
export function latin1(buf: Uint8Array, s: number, e: number): string {
  if (e - s < 64) {
    let text = '';
    for (let i = s; i < e; i++) text += String.fromCharCode(buf[i]);
    return text;
  }
  return Buffer.from(buf.buffer, buf.byteOffset + s, e - s).toString('latin1');
}

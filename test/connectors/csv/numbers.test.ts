import { describe, expect, test } from 'vitest';
import { BIG, isNaNSpelling, parseBigInteger, parseBool, parseFloat64, parseInteger } from '../../../connectors/csv/numbers.ts';

const bytes = (text: string) => new TextEncoder().encode(text);
const float = (text: string) => {
  const b = bytes(text);
  return parseFloat64(b, 0, b.length);
};
const int = (text: string) => {
  const b = bytes(text);
  return parseInteger(b, 0, b.length);
};

/** A deterministic pseudo-random generator (mulberry32). */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('parseFloat64', () => {
  test('equals Number() (correctly rounded) on 200,000 random decimals of 1-20 digits', () => {
    const next = random(42);
    const digit = () => String(Math.floor(next() * 10));
    for (let k = 0; k < 200_000; k++) {
      const length = 1 + Math.floor(next() * 20);
      let text = Array.from({ length }, digit).join('');
      const point = Math.floor(next() * (length + 2));
      if (point < length) text = `${text.slice(0, point)}.${text.slice(point)}`;
      if (next() < 0.3) text += `e${next() < 0.5 ? '-' : ''}${Math.floor(next() * 40)}`;
      if (next() < 0.3) text = `-${text}`;
      const got = float(text);
      if (!Object.is(got, Number(text))) expect(`${text} → ${got}`).toBe(`${text} → ${Number(text)}`);
    }
  });

  test('round-trips every double JS prints (shortest representation)', () => {
    const next = random(7);
    const view = new DataView(new ArrayBuffer(8));
    for (let k = 0; k < 100_000; k++) {
      view.setUint32(0, Math.floor(next() * 2 ** 32));
      view.setUint32(4, Math.floor(next() * 2 ** 32));
      const x = view.getFloat64(0);
      if (!Number.isFinite(x)) continue;
      const got = float(String(x));
      if (!Object.is(got, x)) expect(`${String(x)} → ${got}`).toBe(String(x));
    }
  });

  test('accepts the forms CSV files use, and nothing else', () => {
    expect(float('1.5')).toBe(1.5);
    expect(float('+1.5')).toBe(1.5);
    expect(float('.5')).toBe(0.5);
    expect(float('3.')).toBe(3);
    expect(float('1E3')).toBe(1000);
    expect(float('1e-400')).toBe(0);
    expect(float('1e400')).toBe(Infinity);
    expect(Object.is(float('-0'), -0)).toBe(true);
    expect(float('0.1')).toBe(0.1);
    expect(float('123456789012345678901234567890')).toBe(123456789012345678901234567890);
    for (const bad of ['', '-', '.', 'e5', '1e', '1e+', '1.2.3', '0x10', '1_000', '1,5', ' 1', '1 ', 'abc', '١']) {
      expect(Number.isNaN(float(bad)), bad).toBe(true);
      const b = bytes(bad);
      expect(isNaNSpelling(b, 0, b.length), bad).toBe(false);
    }
  });

  test('NaN and infinity spellings, any case', () => {
    expect(float('inf')).toBe(Infinity);
    expect(float('-Inf')).toBe(-Infinity);
    expect(float('Infinity')).toBe(Infinity);
    expect(float('-INFINITY')).toBe(-Infinity);
    for (const nan of ['NaN', 'nan', 'NAN', '-nan']) {
      expect(Number.isNaN(float(nan))).toBe(true);
      const b = bytes(nan);
      expect(isNaNSpelling(b, 0, b.length)).toBe(true);
    }
  });
});

describe('parseInteger', () => {
  test('exact integers, with sign; BIG beyond 15 digits; NaN for anything else', () => {
    expect(int('0')).toBe(0);
    expect(int('-42')).toBe(-42);
    expect(int('+7')).toBe(7);
    expect(int('007')).toBe(7);
    expect(int('999999999999999')).toBe(999999999999999);
    expect(int('9007199254740993')).toBe(BIG);
    for (const bad of ['', '-', '1.0', '1e3', ' 1', 'x']) expect(Number.isNaN(int(bad)), bad).toBe(true);
  });

  test('int64 beyond 2^53 through BigInt, refused outside int64', () => {
    expect(parseBigInteger('9007199254740993')).toBe(9007199254740993n);
    expect(parseBigInteger('-9223372036854775808')).toBe(-9223372036854775808n);
    expect(parseBigInteger('9223372036854775807')).toBe(9223372036854775807n);
    expect(parseBigInteger('9223372036854775808')).toBeUndefined();
  });
});

test('parseBool: true/false in any case; 1/0 unless words only', () => {
  const bool = (text: string, wordsOnly = false) => parseBool(bytes(text), 0, text.length, wordsOnly);
  expect(bool('true')).toBe(1);
  expect(bool('FALSE')).toBe(0);
  expect(bool('True')).toBe(1);
  expect(bool('1')).toBe(1);
  expect(bool('1', true)).toBe(-1);
  expect(bool('yes')).toBe(-1);
});

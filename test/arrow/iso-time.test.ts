import { describe, expect, test } from 'vitest';
import { daysFromCivil, formatDate, formatTimestamp, parseDate, parseTimestamp } from '../../src/arrow/iso-time.ts';

describe('calendar arithmetic', () => {
  test('agrees with JS Date over four centuries, and round-trips', () => {
    for (let days = -80_000; days < 80_000; days += 97) {
      const iso = new Date(days * 86400000).toISOString().slice(0, 10);
      expect(formatDate(days)).toBe(iso);
      expect(parseDate(iso)).toBe(days);
    }
  });

  test('years JS Date gets wrong or cannot print', () => {
    expect(daysFromCivil(1, 1, 1)).toBe(-719162);
    expect(formatDate(-719162)).toBe('0001-01-01');
    expect(formatDate(daysFromCivil(12345, 6, 7))).toBe('+012345-06-07');
    expect(formatDate(daysFromCivil(-1, 12, 31))).toBe('-000001-12-31');
  });
});

describe('timestamps', () => {
  test('parse: Z, offsets, no offset (UTC), space separator, fractions up to ns', () => {
    expect(parseTimestamp('1970-01-01T00:00:00Z', 1)).toBe(0);
    expect(parseTimestamp('1970-01-01T01:00:00+01:00', 0)).toBe(0);
    expect(parseTimestamp('1970-01-01 00:00:00.25', 1)).toBe(250);
    expect(parseTimestamp('1969-12-31T23:59:59.999999999-0000', 3)).toBe(-1);
    expect(parseTimestamp('2262-04-11T23:47:16.854775807Z', 3)).toBe(9223372036854775807n);
    expect(parseTimestamp('2020-01-01', 0)).toBe(1577836800);
    expect(parseTimestamp('2020-01-01T10:30', 0)).toBe(1577874600);
  });

  test('parse errors say why', () => {
    expect(() => parseTimestamp('2020-13-01', 0)).toThrow('is not a calendar date');
    expect(() => parseTimestamp('2020-01-01T24:00:00', 0)).toThrow('is not a valid time of day');
    expect(() => parseTimestamp('01/02/2020', 0)).toThrow('is not an ISO 8601 timestamp');
    expect(() => parseTimestamp('2020-01-01T00:00:00.001', 0)).toThrow('has more precision than seconds');
  });

  test('format: unit digits, negative ticks, bigint ticks', () => {
    expect(formatTimestamp(-1, 1)).toBe('1969-12-31T23:59:59.999Z');
    expect(formatTimestamp(1, 2)).toBe('1970-01-01T00:00:00.000001Z');
    expect(formatTimestamp(9223372036854775807n, 3)).toBe('2262-04-11T23:47:16.854775807Z');
    expect(formatTimestamp(-9223372036854775808n, 3)).toBe('1677-09-21T00:12:43.145224192Z');
  });
});

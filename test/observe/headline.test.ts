// A result's headline as `quiver run` prints it: numbers to 4 significant digits, times short.
import { Field, Float64, Int32, TimestampMillisecond, Utf8 } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { formatNumber, headlineText } from '../../src/observe/headline.ts';

describe('result headlines', () => {
  test('numbers: 4 significant digits, no trailing zeros, exponents when tiny or huge', () => {
    expect([0.60568946, 1.0547973, 350.5029, 2.5445e-5, 0.0013, 1234.5678, 12345.678, 2.5e7, -0.5, 0, 3].map(formatNumber))
      .toEqual(['0.6057', '1.055', '350.5', '2.545e-5', '0.0013', '1235', '12346', '2.5e7', '-0.5', '0', '3']);
  });

  test('one line: the first text column names the row, the others are labelled; times of one day as clock times', () => {
    const t = (s: string) => Date.parse(s);
    const table = {
      fields: [new Field('class', new Utf8()), new Field('start', new TimestampMillisecond('UTC')), new Field('peak_flux', new Float64())],
      rows: [['M2.5', t('2011-06-07T06:16:00Z'), 2.5445e-5]],
    };
    expect(headlineText('goes-flares', 'Flares', table)).toBe('goes-flares → Flares: M2.5 start 06:16 peak flux 2.545e-5');
    const days = { fields: [table.fields[1]], rows: [[t('2011-06-07T06:16:00Z')], [t('2011-06-08T00:00:00Z')], [null]] };
    expect(headlineText('w', 'T', days)).toBe('w → T: start 2011-06-07 06:16 | start 2011-06-08 | start ∅');
  });

  test('rows that do not fit one line go on a second; no rows says so', () => {
    const table = { fields: [new Field('model', new Utf8()), new Field('mae', new Float64()), new Field('rows', new Int32())], rows: [['lstm', 0.6, 786], ['linear', 0.61, 786], ['persistence', 0.608, 786]] };
    expect(headlineText('spy', 'Test days', table, 60)).toBe('spy → Test days: lstm mae 0.6 rows 786\n    linear mae 0.61 rows 786 | persistence mae 0.608 rows 786');
    expect(headlineText('spy', 'Test days', table)).toBe('spy → Test days: lstm mae 0.6 rows 786 | linear mae 0.61 rows 786 | persistence mae 0.608 rows 786');
    expect(headlineText('spy', 'Test days', { fields: table.fields, rows: [] })).toBe('spy → Test days: no rows');
  });
});

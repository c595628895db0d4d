import { describe, expect, test } from 'vitest';
import { daysFromCivil } from '../../../src/arrow/iso-time.ts';
import { compileFormat, parsed, parseIso, zoneConverter } from '../../../connectors/csv/timestamps.ts';

const bytes = (text: string) => new TextEncoder().encode(text);
const utc = zoneConverter('UTC');

function iso(text: string, zone = utc): string | undefined {
  const b = bytes(text);
  return parseIso(b, 0, b.length, zone) ? new Date(parsed.ms).toISOString() : undefined;
}

function formatted(format: string, text: string, zone = utc): string | undefined {
  const b = bytes(text);
  return compileFormat(format).parse(b, 0, b.length, zone) ? new Date(parsed.ms).toISOString() : undefined;
}

test('daysFromCivil agrees with Date.UTC', () => {
  for (const [y, m, d] of [[1970, 1, 1], [2000, 2, 29], [1900, 3, 1], [1600, 12, 31], [2400, 2, 29], [1969, 12, 31], [2038, 1, 19]]) {
    expect(daysFromCivil(y, m, d) * 86_400_000).toBe(Date.UTC(y, m - 1, d));
  }
});

describe('ISO 8601', () => {
  test('dates and datetimes, T or space, fractions, Z and offsets', () => {
    expect(iso('2020-01-03')).toBe('2020-01-03T00:00:00.000Z');
    expect(iso('2020-01-03T09:30:00')).toBe('2020-01-03T09:30:00.000Z');
    expect(iso('2020-01-03 09:30:00.123')).toBe('2020-01-03T09:30:00.123Z');
    expect(iso('2020-01-03T09:30')).toBe('2020-01-03T09:30:00.000Z');
    expect(iso('2020-01-03T09:30:00Z')).toBe('2020-01-03T09:30:00.000Z');
    expect(iso('2020-01-03T09:30:00+02:00')).toBe('2020-01-03T07:30:00.000Z');
    expect(iso('2020-01-03T09:30:00-0530')).toBe('2020-01-03T15:00:00.000Z');
    expect(iso('2020-01-03T09:30:00.1234567Z')).toBe('2020-01-03T09:30:00.123Z');
    expect(iso('1960-06-01T12:00:00.5')).toBe('1960-06-01T12:00:00.500Z');
  });

  test('refuses what is not a valid date or time', () => {
    for (const bad of ['2020-1-3', '2020-13-01', '2021-02-29', '2020-01-03T24:00', '2020-01-03T09:60', '2020-01-03X09:30',
      '2020-01-03T09:30:00+25:00', '20200103', '2020-01-03 ', 'hello']) {
      expect(iso(bad), bad).toBeUndefined();
    }
    expect(iso('2020-02-29')).toBe('2020-02-29T00:00:00.000Z');
  });

  test('an offset in the value wins over the timezone param', () => {
    expect(iso('2020-01-03T09:30:00Z', zoneConverter('America/New_York'))).toBe('2020-01-03T09:30:00.000Z');
  });
});

describe('strftime-like formats', () => {
  test('the formats of real files', () => {
    expect(formatted('%m/%d/%Y', '3/10/2004')).toBe('2004-03-10T00:00:00.000Z');
    expect(formatted('%m/%d/%Y', '12/31/2013')).toBe('2013-12-31T00:00:00.000Z');
    expect(formatted('%b %d %Y', 'Jan 1 2000')).toBe('2000-01-01T00:00:00.000Z');
    expect(formatted('%b %d %Y', 'sep 15 2008')).toBe('2008-09-15T00:00:00.000Z');
    expect(formatted('%Y%m%d %H%M%S', '20110301 090100')).toBe('2011-03-01T09:01:00.000Z');
  });

  test('every directive', () => {
    expect(formatted('%d.%m.%y %H:%M', '05.07.69 23:59')).toBe('1969-07-05T23:59:00.000Z');
    expect(formatted('%d.%m.%y', '05.07.68')).toBe('2068-07-05T00:00:00.000Z');
    expect(formatted('%Y-%m-%d %I:%M %p', '2020-01-03 12:15 AM')).toBe('2020-01-03T00:15:00.000Z');
    expect(formatted('%Y-%m-%d %I:%M %p', '2020-01-03 12:15 pm')).toBe('2020-01-03T12:15:00.000Z');
    expect(formatted('%Y-%m-%d %I:%M %p', '2020-01-03 1:15 PM')).toBe('2020-01-03T13:15:00.000Z');
    expect(formatted('%B %d, %Y', 'February 29, 2020')).toBe('2020-02-29T00:00:00.000Z');
    expect(formatted('%Y %j', '2020 060')).toBe('2020-02-29T00:00:00.000Z');
    expect(formatted('%H:%M:%S.%f %d/%m/%Y', '09:30:00.25 03/01/2020')).toBe('2020-01-03T09:30:00.250Z');
    expect(formatted('%Y-%m-%dT%H:%M:%S%z', '2020-01-03T09:30:00+0100')).toBe('2020-01-03T08:30:00.000Z');
    expect(formatted('%FT%T', '2020-01-03T09:30:00')).toBe('2020-01-03T09:30:00.000Z');
    expect(formatted('%Y%%%m', '2020%01')).toBe('2020-01-01T00:00:00.000Z');
    expect(formatted('%b %d %Y', 'Jan  1 2000')).toBe('2000-01-01T00:00:00.000Z'); // a space matches several
  });

  test('refuses values that do not match, and invalid dates', () => {
    expect(formatted('%m/%d/%Y', '2004-03-10')).toBeUndefined();
    expect(formatted('%m/%d/%Y', '13/10/2004')).toBeUndefined();
    expect(formatted('%m/%d/%Y', '2/30/2004')).toBeUndefined();
    expect(formatted('%m/%d/%Y', '3/10/2004 ')).toBeUndefined();
    expect(formatted('%b %d %Y', 'Foo 1 2000')).toBeUndefined();
    expect(formatted('%Y%m%d', '3778')).toBeUndefined();
  });

  test('unknown directives and formats without a year are refused when compiled', () => {
    expect(() => compileFormat('%Y-%q')).toThrow("unknown directive '%q'");
    expect(() => compileFormat('%m/%d')).toThrow('has no year');
    expect(() => compileFormat('%Y %I:%M')).toThrow('%I and %p go together');
  });
});

describe('time zones', () => {
  test('a fixed offset', () => {
    expect(iso('2020-01-03T09:30:00', zoneConverter('+05:30'))).toBe('2020-01-03T04:00:00.000Z');
    expect(iso('2020-01-03T09:30:00', zoneConverter('-08:00'))).toBe('2020-01-03T17:30:00.000Z');
  });

  test('an IANA zone, winter and summer', () => {
    const ny = zoneConverter('America/New_York');
    expect(iso('2021-01-15T09:30:00', ny)).toBe('2021-01-15T14:30:00.000Z');
    expect(iso('2021-07-15T09:30:00', ny)).toBe('2021-07-15T13:30:00.000Z');
    expect(iso('2021-07-15', zoneConverter('Europe/Paris'))).toBe('2021-07-14T22:00:00.000Z');
    expect(iso('2021-07-15T12:00', zoneConverter('Asia/Kolkata'))).toBe('2021-07-15T06:30:00.000Z');
  });

  test('DST: clocks going forward (a gap) and back (an overlap)', () => {
    const ny = zoneConverter('America/New_York');
    // 2021-03-14: 02:00 EST becomes 03:00 EDT.
    expect(iso('2021-03-14T01:59:00', ny)).toBe('2021-03-14T06:59:00.000Z');
    expect(iso('2021-03-14T02:30:00', ny)).toBe('2021-03-14T07:30:00.000Z'); // never happened: read as 03:30 EDT
    expect(iso('2021-03-14T03:00:00', ny)).toBe('2021-03-14T07:00:00.000Z');
    // 2021-11-07: 02:00 EDT becomes 01:00 EST; 01:30 happens twice, the earlier is taken.
    expect(iso('2021-11-07T00:30:00', ny)).toBe('2021-11-07T04:30:00.000Z');
    expect(iso('2021-11-07T01:30:00', ny)).toBe('2021-11-07T05:30:00.000Z');
    expect(iso('2021-11-07T02:30:00', ny)).toBe('2021-11-07T07:30:00.000Z');
    // Southern hemisphere: Sydney goes forward on 2021-10-03 at 02:00 (+10 → +11).
    const sydney = zoneConverter('Australia/Sydney');
    expect(iso('2021-10-03T01:30:00', sydney)).toBe('2021-10-02T15:30:00.000Z');
    expect(iso('2021-10-03T03:30:00', sydney)).toBe('2021-10-02T16:30:00.000Z');
  });

  test('agrees with Intl on every hour of a year', () => {
    const zone = zoneConverter('Europe/London');
    const format = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
    for (let t = Date.UTC(2022, 0, 1); t < Date.UTC(2023, 0, 1); t += 3_600_000) {
      const p = Object.fromEntries(format.formatToParts(t).map((x) => [x.type, x.value]));
      const local = `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
      const back = iso(local, zone)!;
      // Each wall-clock time maps back to its instant, except the repeated hour (the earlier instant wins).
      if (back !== new Date(t).toISOString()) expect(Date.parse(back)).toBe(t - 3_600_000);
    }
  });

  test('unknown zones are refused', () => {
    expect(() => zoneConverter('Mars/Olympus')).toThrow("unknown time zone 'Mars/Olympus'");
  });
});

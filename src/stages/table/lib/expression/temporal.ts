// Dates and times: units in nanoseconds, ISO 8601 literals, and the calendar (proleptic Gregorian,
// UTC) in integer arithmetic, so year()/month()/day()/hour() need no Date object per row.
import { Type, type DataType, type Timestamp } from 'apache-arrow';
import { daysFromCivil, daysInMonth } from '../../../../arrow/iso-time.ts';
import type { BigVec, NumVec } from './vectors.ts';

const NS_PER_DAY = 86_400_000_000_000n;

/** Nanoseconds in one stored unit of a timestamp or date type. */
export function unitNanos(type: DataType): bigint {
  if (type.typeId === Type.Date) return (type as unknown as { unit: number }).unit === 0 ? NS_PER_DAY : 1_000_000n;
  return [1_000_000_000n, 1_000_000n, 1_000n, 1n][(type as Timestamp).unit];
}

const iso = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/**
 * An ISO 8601 date or date-time as nanoseconds since 1970-01-01T00:00Z; without an offset it is
 * read as UTC. Undefined if the text is not one, or names a day or time that does not exist.
 */
export function parseInstant(text: string): bigint | undefined {
  const m = iso.exec(text.trim());
  if (!m) return undefined;
  const [year, month, day, hour = 0, minute = 0, second = 0] = m.slice(1, 7).map((s) => (s === undefined ? undefined : Number(s))) as number[];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone && zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2)) : 0;
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const fraction = BigInt((m[7] ?? '').padEnd(9, '0'));
  const seconds = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60;
  return BigInt(seconds) * 1_000_000_000n + fraction;
}

/** floor(a / b) for bigints (division truncates toward zero). */
export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n) && ((a < 0n) !== (b < 0n)) ? q - 1n : q;
}

/**
 * Whole days since the epoch and, if asked, the hour of day (UTC) of each row. Doubles are exact
 * below 2^53, which covers seconds, milliseconds and (for 285 years around 1970) microseconds;
 * other values take the BigInt path. (Assumes a little-endian machine, as Node's platforms are.)
 */
export function daysAndHours(vec: NumVec | BigVec, type: DataType, n: number, hours: boolean): { days: Float64Array; hours?: Int32Array } {
  const days = new Float64Array(n);
  const hourOut = hours ? new Int32Array(n) : undefined;
  if (vec.repr === 'num') {
    // date32: already days.
    for (let i = 0; i < n; i++) days[i] = vec.values[i];
    return { days, hours: hourOut };
  }
  const unit = unitNanos(type);
  const perDayBig = NS_PER_DAY / unit;
  const perHourBig = 3_600_000_000_000n / unit;
  const perDay = Number(perDayBig);
  const perHour = Number(perHourBig);
  const big = vec.values;
  // The two 32-bit halves of each value: hi * 2^32 + lo is exact while below 2^53.
  const lo = new Uint32Array(big.buffer, big.byteOffset, n * 2);
  const hi = new Int32Array(big.buffer, big.byteOffset, n * 2);
  for (let i = 0; i < n; i++) {
    const x = hi[2 * i + 1] * 4294967296 + lo[2 * i];
    if (x <= 9007199254740992 && x >= -9007199254740992) {
      const d = Math.floor(x / perDay);
      days[i] = d;
      if (hourOut) hourOut[i] = Math.floor((x - d * perDay) / perHour);
    } else {
      const v = BigInt(big[i]);
      const d = floorDiv(v, perDayBig);
      days[i] = Number(d);
      if (hourOut) hourOut[i] = Number((v - d * perDayBig) / perHourBig);
    }
  }
  return { days, hours: hourOut };
}

/** Year, month or day of month of days since the epoch (Hinnant's civil_from_days). */
export function civilPart(days: Float64Array, part: 'year' | 'month' | 'day', n: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const z = days[i] + 719468;
    const era = Math.floor(z / 146097);
    const doe = z - era * 146097;
    const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
    const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
    const mp = Math.floor((5 * doy + 2) / 153);
    const month = mp < 10 ? mp + 3 : mp - 9;
    if (part === 'month') out[i] = month;
    else if (part === 'day') out[i] = doy - Math.floor((153 * mp + 2) / 5) + 1;
    else out[i] = yoe + era * 400 + (month <= 2 ? 1 : 0);
  }
  return out;
}

// ISO 8601 dates and timestamps <-> Arrow's integers (days, or ticks of s/ms/us/ns since the Unix
// epoch, UTC). Proleptic Gregorian calendar by exact integer arithmetic (Howard Hinnant's
// days_from_civil), so any year works and JS Date's quirks (years 0-99, ms precision) don't apply.

/** Nanoseconds per tick of each TimeUnit (SECOND, MILLISECOND, MICROSECOND, NANOSECOND). */
export const nanosPerTick = [1e9, 1e6, 1e3, 1];
/** Ticks per second of each TimeUnit. */
export const ticksPerSecond = [1, 1e3, 1e6, 1e9];

/** Days since 1970-01-01 of a calendar date (month 1-12). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const daysIn = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** Days in a month (1-12) of a year of the proleptic Gregorian calendar. */
export function daysInMonth(y: number, m: number): number {
  return m === 2 && isLeap(y) ? 29 : daysIn[m - 1];
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/** `YYYY-MM-DD` of a day number (years outside 0-9999 as ISO's signed six-digit years). */
export function formatDate(days: number): string {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const y = year >= 0 && year <= 9999 ? String(year).padStart(4, '0') : `${year < 0 ? '-' : '+'}${String(Math.abs(year)).padStart(6, '0')}`;
  return `${y}-${pad2(month)}-${pad2(day)}`;
}

/**
 * `YYYY-MM-DDTHH:MM:SS[.fff...]Z` for ticks of `unit` (a number when exact, else a bigint); the
 * fraction has the unit's digits (none for seconds, 3, 6 or 9).
 */
export function formatTimestamp(ticks: number | bigint, unit: number): string {
  const perSecond = ticksPerSecond[unit];
  let seconds: number;
  let fraction: number;
  if (typeof ticks === 'bigint') {
    const big = BigInt(perSecond);
    let s = ticks / big;
    let f = ticks % big;
    if (f < 0n) {
      f += big;
      s -= 1n;
    }
    seconds = Number(s);
    fraction = Number(f);
  } else {
    fraction = ticks % perSecond;
    if (fraction < 0) fraction += perSecond;
    seconds = (ticks - fraction) / perSecond;
  }
  const secondOfDay = ((seconds % 86400) + 86400) % 86400;
  const days = (seconds - secondOfDay) / 86400;
  const time = `${pad2(Math.floor(secondOfDay / 3600))}:${pad2(Math.floor(secondOfDay / 60) % 60)}:${pad2(secondOfDay % 60)}`;
  const digits = [0, 3, 6, 9][unit];
  return `${formatDate(days)}T${time}${digits ? `.${String(fraction).padStart(digits, '0')}` : ''}Z`;
}

/** `HH:MM:SS[.fff...]` of a time of day in ticks of `unit`. */
export function formatTime(ticks: number, unit: number): string {
  const perSecond = ticksPerSecond[unit];
  const fraction = ticks % perSecond;
  const s = (ticks - fraction) / perSecond;
  const digits = [0, 3, 6, 9][unit];
  return `${pad2(Math.floor(s / 3600))}:${pad2(Math.floor(s / 60) % 60)}:${pad2(s % 60)}${digits ? `.${String(fraction).padStart(digits, '0')}` : ''}`;
}

const datePattern = /^\s*([+-]\d{6}|\d{4})-(\d{2})-(\d{2})\s*$/;
const timestampPattern =
  /^\s*([+-]\d{6}|\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?\s*$/;

/** Days since the epoch of an ISO 8601 date `YYYY-MM-DD`; throws a message saying why not. */
export function parseDate(text: string): number {
  const m = datePattern.exec(text);
  if (!m) throw new Error('is not an ISO 8601 date (YYYY-MM-DD)');
  return checkedDays(+m[1], +m[2], +m[3]);
}

function checkedDays(year: number, month: number, day: number): number {
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) throw new Error('is not a calendar date');
  return daysFromCivil(year, month, day);
}

/**
 * Ticks of `unit` since the epoch of an ISO 8601 date or date-time, with an optional `Z` or
 * `+HH:MM` offset (none means UTC). A number when exact, else a bigint. Throws a message saying why
 * not, including when the fraction is finer than the unit.
 */
export function parseTimestamp(text: string, unit: number): number | bigint {
  const m = timestampPattern.exec(text);
  if (!m) throw new Error('is not an ISO 8601 timestamp (YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM])');
  const days = checkedDays(+m[1], +m[2], +m[3]);
  const hour = m[4] ? +m[4] : 0;
  const minute = m[5] ? +m[5] : 0;
  const second = m[6] ? +m[6] : 0;
  if (hour > 23 || minute > 59 || second > 59) throw new Error('is not a valid time of day');
  let offset = 0;
  if (m[9]) {
    const oh = +m[10];
    const om = m[11] ? +m[11] : 0;
    if (oh > 23 || om > 59) throw new Error('has an invalid UTC offset');
    offset = (m[9] === '-' ? -1 : 1) * (oh * 3600 + om * 60);
  }
  const seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset;
  const nanos = m[7] ? +m[7].padEnd(9, '0') : 0;
  const per = nanosPerTick[unit];
  if (nanos % per !== 0) throw new Error(`has more precision than ${['seconds', 'milliseconds', 'microseconds', 'nanoseconds'][unit]}`);
  const whole = seconds * ticksPerSecond[unit];
  if (Math.abs(whole) < 2 ** 52) return whole + nanos / per;
  return BigInt(seconds) * BigInt(ticksPerSecond[unit]) + BigInt(nanos / per);
}

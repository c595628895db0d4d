// Timestamps from bytes: ISO 8601 (`2020-01-03`, `2020-01-03T09:30:00`, `2020-01-03 09:30:00.123`,
// with an optional `Z` or `±HH:MM`), and strftime-like formats (`%m/%d/%Y`, `%b %d %Y`,
// `%Y%m%d %H%M%S`). Values without an offset are wall-clock times in the `timezone` param (an IANA
// name via Intl, or a fixed `±HH:MM`); results are milliseconds since the epoch, UTC.
import { daysFromCivil, daysInMonth } from '../../src/arrow/iso-time.ts';

/** What a successful parse leaves behind (module state, so the hot path allocates nothing). */
export const parsed = {
  /** Milliseconds since 1970-01-01T00:00:00Z, an integer. */
  ms: 0,
  /** The part of the fraction below a millisecond, in nanoseconds (0..999,999). */
  subMs: 0,
};

const DAY_MS = 86_400_000;

/** Turns wall-clock milliseconds (as if UTC) in a zone into UTC milliseconds. */
export type ZoneConverter = (localMs: number) => number;

const NO_OFFSET = 0x7fffffff;

/** Fields gathered while parsing one value. */
const f = { year: 0, month: 1, day: 1, hour: 0, minute: 0, second: 0, nanos: 0, offsetMinutes: NO_OFFSET, pm: -1, dayOfYear: 0 };

function reset() {
  f.year = 1970; f.month = 1; f.day = 1; f.hour = 0; f.minute = 0; f.second = 0; f.nanos = 0;
  f.offsetMinutes = NO_OFFSET; f.pm = -1; f.dayOfYear = 0;
}

/** Validates the gathered fields and sets `parsed`; false when a field is out of range. */
function finish(zone: ZoneConverter): boolean {
  if (f.pm >= 0) {
    if (f.hour < 1 || f.hour > 12) return false;
    f.hour = (f.hour % 12) + (f.pm ? 12 : 0);
  }
  let days: number;
  if (f.dayOfYear > 0) {
    const leap = daysInMonth(f.year, 2) === 29;
    if (f.dayOfYear > (leap ? 366 : 365)) return false;
    days = daysFromCivil(f.year, 1, 1) + f.dayOfYear - 1;
  } else {
    if (f.month < 1 || f.month > 12 || f.day < 1 || f.day > daysInMonth(f.year, f.month)) return false;
    days = daysFromCivil(f.year, f.month, f.day);
  }
  if (f.hour > 23 || f.minute > 59 || f.second > 59) return false;
  const sub = f.nanos % 1_000_000;
  const wall = days * DAY_MS + ((f.hour * 60 + f.minute) * 60 + f.second) * 1000 + (f.nanos - sub) / 1_000_000;
  parsed.ms = f.offsetMinutes === NO_OFFSET ? zone(wall) : wall - f.offsetMinutes * 60_000;
  parsed.subMs = sub;
  return true;
}

/** Reads exactly `n` digits at `i`; -1 if they are not all digits. */
function digits(buf: Uint8Array, i: number, n: number, e: number): number {
  if (i + n > e) return -1;
  let v = 0;
  for (let k = 0; k < n; k++) {
    const d = buf[i + k] - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

const isDigit = (c: number) => c >= 48 && c <= 57;

/** A fraction's digits at `i` into f.nanos; returns the offset after them. */
function fraction(buf: Uint8Array, i: number, e: number): number {
  let nanos = 0;
  let scale = 100_000_000;
  let j = i;
  while (j < e && isDigit(buf[j])) {
    nanos += (buf[j] - 48) * scale;
    scale /= 10;
    j++;
  }
  f.nanos = Math.floor(nanos);
  return j;
}

/** `Z`, `±HH`, `±HHMM` or `±HH:MM` at `i` into f.offsetMinutes; the offset after it, or -1. */
function offset(buf: Uint8Array, i: number, e: number): number {
  const c = buf[i];
  if (c === 90 || c === 122) {
    f.offsetMinutes = 0;
    return i + 1;
  }
  if (c !== 43 && c !== 45) return -1;
  const hours = digits(buf, i + 1, 2, e);
  if (hours < 0 || hours > 23) return -1;
  let j = i + 3;
  let minutes = 0;
  if (j < e && buf[j] === 58) j++;
  if (j < e) {
    minutes = digits(buf, j, 2, e);
    if (minutes < 0 || minutes > 59) return -1;
    j += 2;
  }
  f.offsetMinutes = (c === 45 ? -1 : 1) * (hours * 60 + minutes);
  return j;
}

/**
 * ISO 8601 `YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z|±HH:MM]` in buf[s..e); sets `parsed` and returns
 * true, or returns false.
 */
export function parseIso(buf: Uint8Array, s: number, e: number, zone: ZoneConverter): boolean {
  if (e - s < 10 || buf[s + 4] !== 45 || buf[s + 7] !== 45) return false;
  reset();
  if ((f.year = digits(buf, s, 4, e)) < 0 || (f.month = digits(buf, s + 5, 2, e)) < 0 || (f.day = digits(buf, s + 8, 2, e)) < 0) return false;
  let i = s + 10;
  if (i < e && (buf[i] === 84 || buf[i] === 116 || buf[i] === 32)) {
    if ((f.hour = digits(buf, i + 1, 2, e)) < 0 || buf[i + 3] !== 58 || (f.minute = digits(buf, i + 4, 2, e)) < 0) return false;
    i += 6;
    if (i < e && buf[i] === 58) {
      if ((f.second = digits(buf, i + 1, 2, e)) < 0) return false;
      i += 3;
      if (i < e && (buf[i] === 46 || buf[i] === 44)) {
        const j = fraction(buf, i + 1, e);
        if (j === i + 1) return false;
        i = j;
      }
    }
    if (i < e && (i = offset(buf, i, e)) < 0) return false;
  }
  if (i !== e) return false;
  return finish(zone);
}

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

type Token =
  | { kind: 'Y' | 'y' | 'm' | 'd' | 'H' | 'I' | 'M' | 'S' | 'f' | 'j' | 'b' | 'B' | 'p' | 'z' | 'space' }
  | { kind: 'literal'; byte: number };

const directives = new Set(['Y', 'y', 'm', 'd', 'H', 'I', 'M', 'S', 'f', 'j', 'b', 'B', 'p', 'z']);
const shorthands: Record<string, string> = { F: '%Y-%m-%d', T: '%H:%M:%S', D: '%m/%d/%y', e: '%d', h: '%b' };

/** A compiled strftime-like format; `parse` matches a whole value. */
export interface TimestampFormat {
  text: string;
  parse(buf: Uint8Array, s: number, e: number, zone: ZoneConverter): boolean;
}

/**
 * Compiles a format: %Y (4-digit year) %y (2-digit: 69-99 → 19xx, else 20xx) %m %d %H %I %M %S
 * (1 or 2 digits) %f (fraction, 1-9 digits) %j (day of year) %b/%B (month name or its first three
 * letters, any case) %p (AM/PM) %z (Z or ±HH[:MM]) %% and the shorthands %F %T %D; a space matches
 * one or more spaces; anything else must appear as written. Throws on an unknown directive.
 */
export function compileFormat(text: string): TimestampFormat {
  const tokens: Token[] = [];
  const expand = (format: string) => {
    for (let i = 0; i < format.length; i++) {
      const ch = format[i];
      if (ch === '%') {
        const d = format[++i];
        if (d === undefined) throw new Error(`timestamp format '${text}' ends with a lone '%'`);
        if (d === '%') tokens.push({ kind: 'literal', byte: 37 });
        else if (shorthands[d]) expand(shorthands[d]);
        else if (directives.has(d)) tokens.push({ kind: d as 'Y' });
        else throw new Error(`timestamp format '${text}': unknown directive '%${d}' (known: %Y %y %m %d %H %I %M %S %f %j %b %B %p %z %F %T %D %%)`);
      } else if (ch === ' ') {
        if (tokens.at(-1)?.kind !== 'space') tokens.push({ kind: 'space' });
      } else {
        for (const byte of new TextEncoder().encode(ch)) tokens.push({ kind: 'literal', byte });
      }
    }
  };
  expand(text);
  if (!tokens.some((t) => t.kind === 'Y' || t.kind === 'y')) throw new Error(`timestamp format '${text}' has no year (%Y or %y)`);
  const hasHour12 = tokens.some((t) => t.kind === 'I');
  const hasPm = tokens.some((t) => t.kind === 'p');
  if (hasHour12 !== hasPm) throw new Error(`timestamp format '${text}': %I and %p go together`);

  const number = (buf: Uint8Array, i: number, e: number, min: number, max: number): [number, number] => {
    let v = 0;
    let j = i;
    while (j < e && j - i < max && isDigit(buf[j])) v = v * 10 + buf[j++] - 48;
    return j - i < min ? [-1, i] : [v, j];
  };

  return {
    text,
    parse(buf, s, e, zone) {
      reset();
      let i = s;
      for (const token of tokens) {
        let v: number;
        switch (token.kind) {
          case 'literal':
            if (i >= e || buf[i] !== token.byte) return false;
            i++;
            continue;
          case 'space':
            if (i >= e || buf[i] !== 32) return false;
            while (i < e && buf[i] === 32) i++;
            continue;
          case 'Y': [v, i] = number(buf, i, e, 4, 4); if (v < 0) return false; f.year = v; continue;
          case 'y': [v, i] = number(buf, i, e, 2, 2); if (v < 0) return false; f.year = v < 69 ? 2000 + v : 1900 + v; continue;
          case 'm': [v, i] = number(buf, i, e, 1, 2); if (v < 0) return false; f.month = v; continue;
          case 'd': [v, i] = number(buf, i, e, 1, 2); if (v < 0) return false; f.day = v; continue;
          case 'H': case 'I': [v, i] = number(buf, i, e, 1, 2); if (v < 0) return false; f.hour = v; continue;
          case 'M': [v, i] = number(buf, i, e, 1, 2); if (v < 0) return false; f.minute = v; continue;
          case 'S': [v, i] = number(buf, i, e, 1, 2); if (v < 0) return false; f.second = v; continue;
          case 'j': [v, i] = number(buf, i, e, 1, 3); if (v < 1) return false; f.dayOfYear = v; continue;
          case 'f': {
            const j = fraction(buf, i, e);
            if (j === i || j - i > 9) return false;
            i = j;
            continue;
          }
          case 'b': case 'B': {
            const month = monthName(buf, i, e);
            if (month < 0) return false;
            f.month = month >> 8;
            i += month & 0xff;
            continue;
          }
          case 'p': {
            if (i + 2 > e || (buf[i + 1] | 0x20) !== 109) return false;
            const a = buf[i] | 0x20;
            if (a !== 97 && a !== 112) return false;
            f.pm = a === 112 ? 1 : 0;
            i += 2;
            continue;
          }
          case 'z': if ((i = i < e ? offset(buf, i, e) : -1) < 0) return false; continue;
        }
      }
      return i === e && finish(zone);
    },
  };
}

/** A month name (full, or its first three letters) at `i`: (month << 8) | length, or -1. */
function monthName(buf: Uint8Array, i: number, e: number): number {
  if (i + 3 > e) return -1;
  const prefix = String.fromCharCode(buf[i] | 0x20, buf[i + 1] | 0x20, buf[i + 2] | 0x20);
  const m = MONTHS.findIndex((name) => name.startsWith(prefix));
  if (m < 0) return -1;
  const name = MONTHS[m];
  let length = 3;
  while (length < name.length && i + length < e && (buf[i + length] | 0x20) === name.charCodeAt(length)) length++;
  if (length !== 3 && length !== name.length) length = 3;
  return ((m + 1) << 8) | length;
}

const fixedOffset = /^([+-])(\d{2}):?(\d{2})$/;
const converters = new Map<string, ZoneConverter>();

/** Throws when `timezone` is neither an IANA zone Intl knows nor ±HH:MM. */
export function checkTimezone(timezone: string): void {
  zoneConverter(timezone);
}

/**
 * Wall-clock → UTC for a zone. For an IANA zone, a wall-clock time that happens twice (clocks go
 * back) is the earlier instant, and one that never happens (clocks go forward) is read with the
 * offset before the change (02:30 becomes 03:30), as Temporal's 'compatible' does.
 */
export function zoneConverter(timezone: string): ZoneConverter {
  let converter = converters.get(timezone);
  if (converter) return converter;
  const fixed = fixedOffset.exec(timezone);
  if (/^(utc|z|gmt)$/i.test(timezone)) converter = (ms) => ms;
  else if (fixed) {
    const offsetMs = (fixed[1] === '-' ? -1 : 1) * (Number(fixed[2]) * 60 + Number(fixed[3])) * 60_000;
    converter = (ms) => ms - offsetMs;
  } else {
    let format: Intl.DateTimeFormat;
    try {
      format = new Intl.DateTimeFormat('en-US', {
        timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
        hour: 'numeric', minute: 'numeric', second: 'numeric', era: 'short',
      });
    } catch {
      throw new Error(`unknown time zone '${timezone}' (use an IANA name such as America/New_York, or ±HH:MM)`);
    }
    converter = intlConverter(format);
  }
  converters.set(timezone, converter);
  return converter;
}

function intlConverter(format: Intl.DateTimeFormat): ZoneConverter {
  const offsets = new Map<number, number>();
  /** The zone's offset (ms) at a UTC instant. */
  const offsetAt = (utc: number): number => {
    const whole = Math.floor(utc / 1000) * 1000;
    const p: Record<string, string> = {};
    for (const part of format.formatToParts(new Date(whole))) p[part.type] = part.value;
    let year = Number(p.year);
    if (p.era === 'BC' || p.era === 'B') year = 1 - year;
    const wall = daysFromCivil(year, Number(p.month), Number(p.day)) * DAY_MS
      + ((Number(p.hour) * 60 + Number(p.minute)) * 60 + Number(p.second)) * 1000;
    return wall - whole;
  };
  // Offsets change at most on quarter hours of local time, so one answer serves a whole quarter.
  const QUARTER = 900_000;
  return (local) => {
    const key = Math.floor(local / QUARTER);
    let offset = offsets.get(key);
    if (offset === undefined) {
      const before = offsetAt(local - DAY_MS);
      const after = offsetAt(local + DAY_MS);
      if (before === after) offset = before;
      else {
        const early = offsetAt(local - before) === before;
        const late = offsetAt(local - after) === after;
        if (early && late) offset = Math.max(before, after); // twice: the earlier instant
        else if (late) offset = after;
        else offset = before; // once (early) or never (a gap): the offset before the change
      }
      if (offsets.size > 100_000) offsets.clear();
      offsets.set(key, offset);
    }
    return local - offset;
  };
}

// FITS headers (FITS standard 4.0 §4): 80-character cards in 2880-byte blocks up to END. Values
// are strings ('' escapes a quote; trailing blanks do not count), logicals T/F, integers (beyond
// 2^53 kept exact as bigint: the uint64 BZERO is 9223372036854775808), floats (D exponents too),
// and complex numbers. Long strings run on in CONTINUE cards (a value ending in '&'); HIERARCH
// cards carry keywords longer than eight characters.

export type HeaderValue = string | number | bigint | boolean | [number, number] | null;

export interface Card {
  keyword: string;
  value?: HeaderValue;
  comment?: string;
  /** COMMENT, HISTORY and blank cards: their text. */
  text?: string;
}

export const BLOCK = 2880;
export const CARD = 80;

export class FitsHeader {
  private readonly index = new Map<string, number>();

  constructor(readonly cards: Card[]) {
    // The first card with a keyword is the one that counts (as astropy and CFITSIO read it).
    cards.forEach((c, i) => {
      if (c.value !== undefined && !this.index.has(c.keyword)) this.index.set(c.keyword, i);
    });
  }

  has(keyword: string): boolean {
    return this.index.has(keyword);
  }

  get(keyword: string): HeaderValue | undefined {
    const i = this.index.get(keyword);
    return i === undefined ? undefined : this.cards[i].value;
  }

  /** A number-valued keyword (an integer or a float), or `fallback`; an Error naming it if it holds something else. */
  number(keyword: string, fallback?: number): number {
    const v = this.get(keyword);
    if (v === undefined || v === null) {
      if (fallback === undefined) throw new Error(`header has no ${keyword}`);
      return fallback;
    }
    if (typeof v === 'number' || typeof v === 'bigint') return Number(v);
    throw new Error(`header keyword ${keyword} is ${JSON.stringify(v)}, not a number`);
  }

  /** A whole number, checked. */
  integer(keyword: string, fallback?: number): number {
    const n = this.number(keyword, fallback);
    if (!Number.isInteger(n)) throw new Error(`header keyword ${keyword} is ${n}, not a whole number`);
    return n;
  }

  string(keyword: string): string | undefined {
    const v = this.get(keyword);
    return typeof v === 'string' ? v : undefined;
  }

  /** Keyword → value, the first of each, for a JSON column (bigints as exact strings, complex as pairs). */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, i] of this.index) {
      const v = this.cards[i].value;
      out[k] = typeof v === 'bigint' ? v.toString() : v;
    }
    const history = this.cards.filter((c) => c.keyword === 'HISTORY').map((c) => c.text ?? '');
    const comments = this.cards.filter((c) => c.keyword === 'COMMENT').map((c) => c.text ?? '');
    if (history.length) out.HISTORY = history;
    if (comments.length) out.COMMENT = comments;
    return out;
  }
}

/** Parses the cards of a header (its bytes up to and including the END card's block). */
export function parseHeader(bytes: Uint8Array, where: string): FitsHeader {
  const cards: Card[] = [];
  for (let at = 0; at + CARD <= bytes.length; at += CARD) {
    const text = latin1(bytes.subarray(at, at + CARD));
    const keyword = text.slice(0, 8).trimEnd();
    if (keyword === 'END') return new FitsHeader(joinContinues(cards, where));
    cards.push(parseCard(text, keyword, `${where}, card ${at / CARD + 1}`));
  }
  throw new Error(`${where}: the header has no END card`);
}

/** Whether a header block holds the END card (each block is scanned once, as it is read). */
export function blockHasEnd(block: Uint8Array): boolean {
  for (let at = 0; at + CARD <= block.length; at += CARD) {
    if (block[at] === 0x45 && block[at + 1] === 0x4e && block[at + 2] === 0x44 && block.subarray(at + 3, at + 8).every((b) => b === 0x20)) return true;
  }
  return false;
}

const latin1 = (bytes: Uint8Array) => String.fromCharCode(...bytes);

function parseCard(text: string, keyword: string, where: string): Card {
  if (keyword === 'HIERARCH') {
    const eq = text.indexOf('=');
    if (eq < 0) return { keyword, text: text.slice(8).trimEnd() };
    return { keyword: text.slice(8, eq).trim(), ...parseValue(text.slice(eq + 1), where) };
  }
  if (keyword === 'CONTINUE') return { keyword, ...parseValue(text.slice(8), where) };
  if (text.slice(8, 10) !== '= ' || keyword === 'COMMENT' || keyword === 'HISTORY' || keyword === '') {
    return { keyword, text: text.slice(8).trimEnd() };
  }
  return { keyword, ...parseValue(text.slice(10), where) };
}

function parseValue(field: string, where: string): { value: HeaderValue; comment?: string } {
  const s = field.trimStart();
  if (s.startsWith("'")) {
    let value = '';
    let i = 1;
    for (;;) {
      const q = s.indexOf("'", i);
      if (q < 0) throw new Error(`${where}: a string value has no closing quote`);
      value += s.slice(i, q);
      if (s[q + 1] === "'") {
        value += "'";
        i = q + 2;
        continue;
      }
      i = q + 1;
      break;
    }
    return { value: value.trimEnd(), ...comment(s.slice(i)) };
  }
  const slash = s.indexOf('/');
  const raw = (slash < 0 ? s : s.slice(0, slash)).trim();
  const rest = slash < 0 ? {} : { comment: s.slice(slash + 1).trim() };
  if (raw === '') return { value: null, ...rest };
  if (raw === 'T' || raw === 'F') return { value: raw === 'T', ...rest };
  if (/^[+-]?\d+$/.test(raw)) {
    const n = Number(raw);
    return { value: Number.isSafeInteger(n) ? n : BigInt(raw), ...rest };
  }
  const float = (t: string) => {
    const n = Number(t.trim().replace(/[dD]/, 'E'));
    if (Number.isNaN(n) || t.trim() === '') throw new Error(`${where}: '${raw}' is not a FITS value`);
    return n;
  };
  // Not in the standard, but written by real pipelines (the HMI SHARP headers) and read by astropy.
  if (/^[+-]?(nan|inf(inity)?)$/i.test(raw)) return { value: raw.toLowerCase().includes('nan') ? NaN : raw.startsWith('-') ? -Infinity : Infinity, ...rest };
  const complex = /^\((.*),(.*)\)$/.exec(raw);
  if (complex) return { value: [float(complex[1]), float(complex[2])], ...rest };
  return { value: float(raw), ...rest };
}

function comment(after: string): { comment?: string } {
  const slash = after.indexOf('/');
  return slash < 0 ? {} : { comment: after.slice(slash + 1).trim() };
}

/** Long strings: a string value ending in '&' goes on in the CONTINUE cards after it. */
function joinContinues(cards: Card[], where: string): Card[] {
  const out: Card[] = [];
  for (const card of cards) {
    const last = out[out.length - 1];
    if (card.keyword !== 'CONTINUE') {
      out.push(card);
      continue;
    }
    if (!last || typeof last.value !== 'string' || !last.value.endsWith('&')) {
      out.push({ keyword: 'CONTINUE', text: typeof card.value === 'string' ? card.value : '' });
      continue;
    }
    if (typeof card.value !== 'string') throw new Error(`${where}: a CONTINUE card after ${last.keyword} holds no string`);
    last.value = last.value.slice(0, -1) + card.value;
  }
  return out;
}

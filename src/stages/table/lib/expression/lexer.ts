// Splits expression text into tokens. Positions are character offsets from 0, kept on every token
// so later errors can point at the exact place.
import { expressionError } from './errors.ts';

export type Token =
  | { kind: 'number'; text: string; integer: boolean; pos: number; end: number }
  | { kind: 'string'; value: string; pos: number; end: number }
  /** A bare (`close`) or backtick-quoted (`Adj Close`) name. */
  | { kind: 'name'; name: string; quoted: boolean; pos: number; end: number }
  | { kind: 'keyword'; word: Keyword; pos: number; end: number }
  | { kind: 'op'; op: string; pos: number; end: number }
  | { kind: 'end'; pos: number; end: number };

export type Keyword = 'and' | 'or' | 'not' | 'true' | 'false' | 'null';

// Keywords are case-insensitive (SQL habit: `AND`); a column with such a name needs backticks.
const keywords = new Set<string>(['and', 'or', 'not', 'true', 'false', 'null']);

const twoChar = new Set(['==', '!=', '<=', '>=']);
const oneChar = new Set(['+', '-', '*', '/', '%', '<', '>', '(', ')', ',']);

// Likely mistakes get a hint instead of a bare "unexpected".
const hints: Record<string, string> = {
  '=': "use '==' to compare",
  '&&': "use 'and' instead of '&&'",
  '||': "use 'or' instead of '||'",
  '&': "use 'and' instead of '&'",
  '|': "use 'or' instead of '|'",
  '!': "use 'not' (or '!=' to compare)",
  '<>': "use '!=' instead of '<>'",
  '^': "use pow(x, y) for powers",
  '**': "use pow(x, y) for powers",
};

const isDigit = (c: string) => c >= '0' && c <= '9';
const isNameStart = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
const isNameChar = (c: string) => isNameStart(c) || isDigit(c);

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const start = i;
    if (isDigit(c) || (c === '.' && isDigit(text[i + 1] ?? ''))) {
      while (isDigit(text[i] ?? '')) i++;
      let integer = true;
      if (text[i] === '.') {
        integer = false;
        i++;
        while (isDigit(text[i] ?? '')) i++;
      }
      if (text[i] === 'e' || text[i] === 'E') {
        const save = i;
        i++;
        if (text[i] === '+' || text[i] === '-') i++;
        if (!isDigit(text[i] ?? '')) throw expressionError(text, `malformed number '${text.slice(start, i)}'`, save);
        while (isDigit(text[i] ?? '')) i++;
        integer = false;
      }
      // `2x` is almost certainly a typo for `2 * x`; refuse rather than read two tokens.
      if (isNameChar(text[i] ?? '') || text[i] === '.') {
        throw expressionError(text, `malformed number '${text.slice(start, i + 1)}'`, start);
      }
      tokens.push({ kind: 'number', text: text.slice(start, i), integer, pos: start, end: i });
      continue;
    }
    if (isNameStart(c)) {
      while (isNameChar(text[i] ?? '')) i++;
      const word = text.slice(start, i);
      const lower = word.toLowerCase();
      if (keywords.has(lower)) tokens.push({ kind: 'keyword', word: lower as Keyword, pos: start, end: i });
      else tokens.push({ kind: 'name', name: word, quoted: false, pos: start, end: i });
      continue;
    }
    if (c === '`') {
      // A backtick inside a quoted name is written twice.
      let name = '';
      i++;
      for (;;) {
        if (i >= text.length) throw expressionError(text, 'unterminated `quoted name` (no closing backtick)', start);
        if (text[i] === '`') {
          if (text[i + 1] === '`') {
            name += '`';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        name += text[i++];
      }
      if (name === '') throw expressionError(text, 'empty `quoted name`', start);
      tokens.push({ kind: 'name', name, quoted: true, pos: start, end: i });
      continue;
    }
    if (c === "'" || c === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw expressionError(text, `unterminated string (no closing ${c})`, start);
        const ch = text[i];
        if (ch === c) {
          i++;
          break;
        }
        if (ch === '\\') {
          const next = text[i + 1];
          const escaped = next === 'n' ? '\n' : next === 't' ? '\t' : next === '\\' || next === "'" || next === '"' ? next : undefined;
          if (escaped === undefined) {
            throw expressionError(text, `unknown escape '\\${next ?? ''}' in a string`, i, `the escapes are \\\\ \\' \\" \\n \\t`);
          }
          value += escaped;
          i += 2;
          continue;
        }
        value += ch;
        i++;
      }
      tokens.push({ kind: 'string', value, pos: start, end: i });
      continue;
    }
    const two = text.slice(i, i + 2);
    if (twoChar.has(two)) {
      tokens.push({ kind: 'op', op: two, pos: start, end: i + 2 });
      i += 2;
      continue;
    }
    const hint = hints[two] ?? hints[c];
    if (hint) throw expressionError(text, `unexpected '${hints[two] ? two : c}'`, start, hint);
    if (oneChar.has(c)) {
      tokens.push({ kind: 'op', op: c, pos: start, end: i + 1 });
      i++;
      continue;
    }
    throw expressionError(text, `unexpected '${c}'`, start);
  }
  tokens.push({ kind: 'end', pos: text.length, end: text.length });
  return tokens;
}

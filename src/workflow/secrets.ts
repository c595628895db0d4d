// Params that hold secrets (tokens, passwords, keys to services) never reach logs, run records,
// errors or quarantine rows. A Redactor is built once per run from the params: it knows every value
// held under a secret-looking name (strings, numbers, and the leaves of lists and maps) and replaces
// each wherever it turns up, because `${params.x}` carries a value into other params, expressions and
// the errors they cause. The run record keeps the workflow file's hash as written, so the file can
// still be matched to the record.
import { isMap, isPair, isScalar, isSeq, parseDocument, Scalar, visit } from 'yaml';

export const redacted = '[redacted]';

/** Word parts that make a name secret (`db_pass`, `signing_key`, `apiKey`); `keys` is a column list, not a secret. */
const secretWords = new Set(['password', 'passwd', 'pass', 'secret', 'token', 'key', 'apikey', 'bearer', 'credential', 'credentials', 'auth', 'signing']);

/** `apiKey`, `db_pass`, `API-TOKEN2` → its lower-case word parts. */
const wordsOf = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase().split(/[^a-z]+/).filter(Boolean);

export const isSecretName = (name: string) => wordsOf(name).some((w) => secretWords.has(w));

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export class Redactor {
  /** Matches any secret value; undefined when there is none. */
  private readonly pattern?: RegExp;
  private readonly numbers: Set<number>;

  private constructor(values: (string | number)[]) {
    this.numbers = new Set(values.filter((v): v is number => typeof v === 'number'));
    // A string as written and as JSON escapes it (log lines are JSON); longest first, so a secret
    // that contains another goes whole. A number only where it is not part of a longer number.
    const texts = [...new Set(values.filter((v): v is string => typeof v === 'string' && v !== '').flatMap((v) => [v, JSON.stringify(v).slice(1, -1)]))];
    const alternatives = [
      ...texts.sort((a, b) => b.length - a.length).map(escapeRegExp),
      ...[...this.numbers].map((n) => `(?<![\\d.])${escapeRegExp(String(n))}(?!\\.?\\d)`),
    ];
    if (alternatives.length > 0) this.pattern = new RegExp(alternatives.join('|'), 'g');
  }

  /** Knows every value held under a secret-looking name anywhere in each of `params` (the defaults and the values run with). */
  static fromParams(...params: Record<string, unknown>[]): Redactor {
    const found: (string | number)[] = [];
    const leaves = (v: unknown): void => {
      if (typeof v === 'string' || typeof v === 'number') found.push(v);
      else if (v && typeof v === 'object') Object.values(v).forEach(leaves);
    };
    const walk = (v: unknown): void => {
      if (!v || typeof v !== 'object') return;
      for (const [k, child] of Object.entries(v)) (isSecretName(k) ? leaves : walk)(child);
    };
    params.forEach(walk);
    return new Redactor(found);
  }

  static readonly none = new Redactor([]);

  /** `text` with every secret value replaced by the marker. */
  text(text: string): string {
    return this.pattern ? text.replace(this.pattern, redacted) : text;
  }

  /** A copy of `value` with values under secret-looking names, and secret values anywhere, replaced. */
  value<T>(value: T): T {
    if (typeof value === 'string') return this.text(value) as T;
    if (typeof value === 'number') return (this.numbers.has(value) ? redacted : value) as T;
    if (Array.isArray(value)) return value.map((v) => this.value(v)) as T;
    if (!value || typeof value !== 'object') return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, isSecretName(k) ? redacted : this.value(v)])) as T;
  }

  /** The workflow text with secret values replaced (comments and layout kept). */
  workflowText(text: string): string {
    const doc = parseDocument(text);
    let changed = false;
    visit(doc, {
      Pair: (_, pair) => {
        if (!isPair(pair) || !isScalar(pair.key) || !isSecretName(String(pair.key.value))) return;
        if (!isScalar(pair.value) && !isSeq(pair.value) && !isMap(pair.value)) return;
        if (isScalar(pair.value) && pair.value.value === redacted) return;
        // A scalar keeps its quotes and comment; a list or map becomes one marker.
        if (isScalar(pair.value)) pair.value.value = redacted;
        else pair.value = new Scalar(redacted);
        changed = true;
      },
      Scalar: (_, node) => {
        if (typeof node.value !== 'string' || node.value === redacted) return;
        const clean = this.text(node.value);
        if (clean !== node.value) {
          node.value = clean;
          changed = true;
        }
      },
    });
    return changed ? doc.toString() : text;
  }
}

// Columns of an output's first rows as plain numbers, for charts and marks.
import { Type, type RecordBatch, type Schema } from 'apache-arrow';
import { outputBatches, type OpenOutput } from './read-output.ts';

/** Throws, naming what the file has, when a column is missing. */
export function requireColumns(schema: Schema, names: string[], file: string): void {
  const have = schema.fields.map((f) => f.name);
  const missing = names.filter((n) => !have.includes(n));
  if (missing.length) throw new Error(`${file} has no column ${missing.map((c) => `'${c}'`).join(', ')} (it has ${have.join(', ')})`);
}

export const isTimeColumn = (schema: Schema, name: string): boolean => {
  const t = schema.fields.find((f) => f.name === name)?.type.typeId;
  return t === Type.Timestamp || t === Type.Date;
};

/** A value as a number: timestamps as ms since the epoch, bigints, booleans; anything else NaN. */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof Date) return v.getTime();
  return NaN;
}

/**
 * `names` of the first `maxRows` rows: numbers as Float64Array, others (`text`) as their values;
 * rows where `where` fails are left out. `truncated`: rows were left unread.
 */
export async function readColumns(open: OpenOutput, names: string[], maxRows: number, where?: { column: string; equals: unknown }, text: string[] = []):
  Promise<{ numbers: Map<string, Float64Array>; texts: Map<string, unknown[]>; rows: number; truncated: boolean }> {
  const numbers = new Map(names.map((n) => [n, [] as number[]]));
  const texts = new Map(text.map((n) => [n, [] as unknown[]]));
  let rows = 0;
  let truncated = false;
  for await (const batch of outputBatches(open)) {
    if (rows >= maxRows) { truncated = true; break; }
    take(batch, names, text, numbers, texts, where, maxRows - rows, (n) => (rows += n));
  }
  return { numbers: new Map([...numbers].map(([k, v]) => [k, Float64Array.from(v)])), texts, rows, truncated };
}

function take(batch: RecordBatch, names: string[], text: string[], numbers: Map<string, number[]>, texts: Map<string, unknown[]>,
  where: { column: string; equals: unknown } | undefined, room: number, count: (n: number) => void): void {
  const n = Math.min(batch.numRows, room);
  const filter = where ? batch.getChild(where.column) : null;
  const vectors = names.map((name) => [numbers.get(name)!, batch.getChild(name)!] as const);
  const textVectors = text.map((name) => [texts.get(name)!, batch.getChild(name)!] as const);
  let kept = 0;
  for (let i = 0; i < n; i++) {
    if (filter && filter.get(i) !== where!.equals) continue;
    for (const [out, vector] of vectors) out.push(toNumber(vector.get(i)));
    for (const [out, vector] of textVectors) out.push(vector.get(i));
    kept++;
  }
  void kept;
  count(n);
}

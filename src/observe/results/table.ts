// Table previews (schema and first rows) and pages of any table output, for `quiver serve`.
import { typeName } from '../../arrow/types.ts';
import { previewRows } from '../preview.ts';
import { escapeHtml as esc, rowsTable } from './html.ts';
import { declaredRows, firstBatches, openOutput, outputBatches } from './read-output.ts';

export interface TablePage {
  columns: { name: string; type: string }[];
  rows: Record<string, unknown>[];
  /** Every row of the file: from the footer where it says (Parquet), else counted. */
  total: number;
}

/** Rows offset … offset + limit − 1 of a CSV, Parquet or Arrow file, values made JSON-safe. */
export async function tablePage(file: string, offset: number, limit: number): Promise<TablePage> {
  if (!(Number.isInteger(offset) && offset >= 0 && Number.isInteger(limit) && limit >= 0)) throw new Error(`offset and limit must be whole numbers ≥ 0, not ${offset}, ${limit}`);
  const open = await openOutput(file);
  const columns = open.schema.fields.map((f) => ({ name: f.name, type: typeName(f.type) }));
  const rows: Record<string, unknown>[] = [];
  const declared = await declaredRows(open);
  let seen = 0;
  for await (const batch of outputBatches(open)) {
    const end = seen + batch.numRows;
    if (end > offset && rows.length < limit) {
      const start = Math.max(0, offset - seen);
      rows.push(...previewRows(batch.slice(start, Math.min(batch.numRows, start + limit - rows.length)), limit));
    }
    seen = end;
    // Enough rows, and the footer gave the total: stop reading.
    if (rows.length >= limit && declared !== undefined) break;
  }
  return { columns, rows, total: declared ?? seen };
}

/** Schema and first rows as HTML, `columns` (when given) first and only. */
export async function tablePreviewHtml(file: string, rows: number, columns?: string[]): Promise<string> {
  const open = await openOutput(file);
  const fields = open.schema.fields.map((f) => ({ name: f.name, type: typeName(f.type) }));
  const missing = (columns ?? []).filter((c) => !fields.some((f) => f.name === c));
  if (missing.length) throw new Error(`no column ${missing.map((c) => `'${c}'`).join(', ')} (it has ${fields.map((f) => f.name).join(', ')})`);
  const shown = columns ? columns.map((c) => fields.find((f) => f.name === c)!) : fields;
  const first = await firstBatches(open, rows);
  const values = first.batches.flatMap((b) => previewRows(b, rows)).slice(0, rows);
  const declared = await declaredRows(open);
  const count = declared !== undefined ? `${declared.toLocaleString('en-US')} rows` : first.more ? `more than ${values.length} rows` : `${values.length} rows`;
  const note = `<p class="muted">${esc(count)}, ${fields.length} columns${values.length < (declared ?? values.length) || first.more ? `; the first ${values.length} shown` : ''}.</p>`;
  return `${rowsTable(shown, values)}\n${note}`;
}

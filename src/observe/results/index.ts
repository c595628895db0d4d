// PLACEHOLDER for the results module (issue 19): the real one (charts, images, tensors, …) replaces
// this file at merge and keeps these two signatures. This one previews tables only — CSV and
// Parquet outputs, read with the same connectors a workflow uses — and gives any other output a
// line with its name and size.
import { existsSync, statSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import type { Manifest } from '../../provenance/manifest.ts';
import type { SourceStage } from '../../workflow/stage.ts';
import { formatBytes } from '../format.ts';
import { plainValue } from '../preview.ts';
import { escapeHtml as esc } from '../report.ts';

export interface Preview {
  /** The output's path as the manifest records it (relative to the out folder). */
  output: string;
  title: string;
  /** 'table' for CSV and Parquet; 'file' for anything else. */
  kind: string;
  /** A self-contained HTML fragment (no scripts, no external resources). */
  html: string;
}

export interface TablePage {
  columns: string[];
  /** Rows as arrays of JSON-safe values, in the order of `columns`. */
  rows: unknown[][];
  /** Rows in the whole file. */
  total: number;
}

const previewRows = 20;

/** A preview of every output the run recorded, in the record's order. */
export async function previewsOfRun(run: { dir: string; manifest: Manifest }, outDir: string): Promise<Preview[]> {
  const previews: Preview[] = [];
  for (const o of run.manifest.outputs ?? []) {
    const file = join(outDir, o.path);
    const title = o.path;
    if (!existsSync(file)) {
      previews.push({ output: o.path, title, kind: 'file', html: `<p class="muted">${esc(o.path)}: no longer in the output folder.</p>` });
      continue;
    }
    if (!isTable(file)) {
      previews.push({ output: o.path, title, kind: 'file', html: `<p><span class="mono">${esc(o.path)}</span> · ${esc(formatBytes(statSync(file).size))}</p>` });
      continue;
    }
    try {
      const page = await tablePage(file, 0, previewRows);
      previews.push({ output: o.path, title, kind: 'table', html: tableHtml(page, 0) });
    } catch (error) {
      previews.push({ output: o.path, title, kind: 'file', html: `<p class="warn">${esc(o.path)}: cannot be read as a table (${esc((error as Error).message)}).</p>` });
    }
  }
  return previews;
}

/** Rows `offset` to `offset + limit` of a CSV or Parquet file, and how many rows it has. */
export async function tablePage(file: string, offset: number, limit: number): Promise<TablePage> {
  const source = await sourceFor(file);
  const params = source.params.parse({ path: file });
  const { schema, partitions } = await source.discover(params, { baseDir: dirname(file) });
  const columns = schema.fields.map((f) => f.name);
  const rows: unknown[][] = [];
  let total = 0;
  for (const [index, partition] of partitions.entries()) {
    for await (const chunk of partition.chunks()) {
      for await (const batch of source.read(chunk, params, { schema, partition: { index, key: partition.key } }) as AsyncIterable<RecordBatch>) {
        const from = Math.max(0, offset - total);
        const to = Math.min(batch.numRows, offset + limit - total);
        for (let i = from; i < to; i++) rows.push(schema.fields.map((f, c) => plainValue(batch.getChildAt(c)!.get(i), f.type)));
        total += batch.numRows;
      }
    }
  }
  return { columns, rows, total };
}

const isTable = (file: string) => ['.csv', '.tsv', '.parquet'].includes(extname(file.replace(/\.gz$/, '')).toLowerCase());

async function sourceFor(file: string): Promise<SourceStage> {
  const extension = extname(file.replace(/\.gz$/, '')).toLowerCase();
  if (extension === '.parquet') return (await import('../../../connectors/parquet/source.ts')).parquetSource as unknown as SourceStage;
  if (extension === '.csv' || extension === '.tsv') return (await import('../../../connectors/csv/source.ts')).csvSource as unknown as SourceStage;
  throw new Error(`${file}: not a table this view reads (CSV or Parquet)`);
}

function tableHtml(page: TablePage, offset: number): string {
  const cell = (v: unknown) => (v === null || v === undefined ? '<span class="muted">∅</span>' : esc(typeof v === 'object' ? JSON.stringify(v) : String(v)));
  return `<table class="preview"><thead><tr>${page.columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead>
<tbody>${page.rows.map((r) => `<tr>${r.map((v) => `<td>${cell(v)}</td>`).join('')}</tr>`).join('\n')}</tbody></table>
<p class="muted">rows ${offset + 1}–${offset + page.rows.length} of ${page.total.toLocaleString('en-US')}</p>`;
}

// After a run, each result's headline (observe/headline.ts): the first rows of an output, read with
// the source connector of its format (CSV, Parquet, Arrow IPC), stopping once enough rows are in.
import { existsSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { headlineText, type HeadlineTable } from '../observe/headline.ts';
import { builtinCatalog } from '../stages/catalog.ts';
import { messageOf } from '../workflow/errors.ts';
import { isInside, realPath } from '../workflow/paths.ts';
import type { ResultSpec } from '../workflow/results.ts';
import type { SourceStage } from '../workflow/stage.ts';

const sourceByExtension: Record<string, string> = {
  '.csv': 'source.csv', '.tsv': 'source.csv', '.parquet': 'source.parquet', '.pq': 'source.parquet',
  '.arrow': 'source.arrow', '.arrows': 'source.arrow', '.feather': 'source.arrow', '.ipc': 'source.arrow',
};

/** The headline lines of a run's results (those with `headline`), each naming what it could not read. */
export async function resultHeadlines(workflow: string, results: ResultSpec[] | undefined, out: string): Promise<string[]> {
  const lines: string[] = [];
  for (const result of results ?? []) {
    if (!result.headline) continue;
    const title = result.title ?? result.output;
    // Only what the run wrote: a headline never shows a file from elsewhere on the machine.
    if (!isInside(realPath(join(out, result.output)), realPath(out))) {
      lines.push(`${workflow} → ${title}: (${result.output} is outside the output folder)`);
      continue;
    }
    try {
      const table = await firstRows(join(out, result.output), result.headline, result.rows ?? 3);
      lines.push(headlineText(workflow, title, table));
    } catch (error) {
      lines.push(`${workflow} → ${title}: (${messageOf(error)})`);
    }
  }
  return lines;
}

/** The `columns` of the first `rows` rows of a CSV, Parquet or Arrow IPC file. */
export async function firstRows(path: string, columns: string[], rows: number): Promise<HeadlineTable> {
  if (!existsSync(path)) throw new Error(`${path} was not written`);
  if (!statSync(path).isFile()) throw new Error(`${path} is a folder; a headline is read from one file`);
  const name = sourceByExtension[extname(path).toLowerCase()];
  if (!name) throw new Error(`a headline is read from a .csv, .parquet or .arrow file, not ${path}`);
  const source = await builtinCatalog.resolve(name, '.') as SourceStage;
  const params = source.params.parse({ path: resolve(path) });
  const { schema, partitions } = await source.discover(params, { baseDir: process.cwd() });
  const indices = columns.map((c) => {
    const i = schema.fields.findIndex((f) => f.name === c);
    if (i < 0) throw new Error(`no column '${c}' in ${path} (columns: ${schema.fields.map((f) => f.name).join(', ')})`);
    return i;
  });
  const table: HeadlineTable = { fields: indices.map((i) => schema.fields[i]), rows: [] };
  const partition = partitions[0];
  if (!partition) return table;
  const take = (batch: RecordBatch) => {
    for (let r = 0; r < batch.numRows && table.rows.length < rows; r++) {
      table.rows.push(columns.map((c) => batch.getChild(c)?.get(r) ?? null));
    }
  };
  outer: for await (const chunk of partition.chunks()) {
    for await (const batch of source.read(chunk, params, { schema, partition: { index: 0, key: partition.key } })) {
      take(batch);
      if (table.rows.length >= rows) break outer;
    }
  }
  return table;
}

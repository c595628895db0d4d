// The report of one run written to a file (`quiver report`, and `quiver serve` when a run's page
// links to a report not written yet): beside its record by default, under a temporary name first.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { RunRecord } from '../provenance/runs.ts';
import { renderReport } from './report.ts';
import { previewsOfRun } from './results/index.ts';

/**
 * The report's HTML. The run's log is optional (a run killed while writing it still has a record);
 * outputs that cannot be read give previews saying so. `outDir`: default, the folder the record is in.
 */
export async function reportOf(record: RunRecord, outDir = resolve(record.dir, '..', '..', '..')): Promise<string> {
  const logPath = join(record.dir, 'log.jsonl');
  const log = existsSync(logPath) ? readFileSync(logPath, 'utf8') : '';
  const previews = await previewsOfRun({ dir: record.dir, manifest: record.manifest }, outDir);
  return renderReport(record.manifest, log, previews);
}

/** Writes the report to `to` (default RUN_DIR/report.html) and returns its absolute path. */
export async function writeReportFile(record: RunRecord, to?: string, outDir?: string): Promise<string> {
  const path = resolve(to ?? join(record.dir, 'report.html'));
  const html = await reportOf(record, outDir);
  await mkdir(dirname(path), { recursive: true });
  // Temporary name then rename: a reader never sees half a report.
  const temp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  await writeFile(temp, html);
  await rename(temp, path);
  return path;
}

// `quiver report RUN [--out DIR] [--to FILE]`: one run as a self-contained HTML page, by default
// beside its record (OUT/.quiver/runs/RUN_ID/report.html). RUN is a run id, a unique prefix of one, or 'latest'.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { renderReport } from '../observe/report.ts';
import { previewsOfRun } from '../observe/results/index.ts';
import { readManifest } from '../provenance/runs.ts';
import { parseFlags } from './args.ts';

export async function reportCommand(args: string[]): Promise<number> {
  const { values, target } = parseFlags(args, {
    out: { type: 'string', default: 'out' },
    to: { type: 'string' },
  }, 'one run id (or a unique prefix of one, or latest)');
  const record = readManifest(values.out!, target);
  // A run killed while writing its log still has a record worth reporting: the log is optional.
  const logPath = join(record.dir, 'log.jsonl');
  const log = existsSync(logPath) ? readFileSync(logPath, 'utf8') : '';
  const to = resolve(values.to ?? join(record.dir, 'report.html'));
  await mkdir(dirname(to), { recursive: true });
  // Temporary name then rename: a reader never sees half a report.
  const temp = `${to}.tmp-${process.pid}`;
  // Outputs that cannot be read give previews saying so: the report is written whatever they hold.
  const previews = await previewsOfRun({ dir: record.dir, manifest: record.manifest }, resolve(values.out!));
  await writeFile(temp, renderReport(record.manifest, log, previews));
  await rename(temp, to);
  process.stdout.write(`run ${record.runId} (${record.manifest.workflow.name}, ${record.manifest.status}) → ${to}\n`);
  return 0;
}

// `quiver report RUN [--out DIR] [--to FILE]`: one run as a self-contained HTML page, by default
// beside its record (OUT/.quiver/runs/RUN_ID/report.html). RUN is a run id, a unique prefix of one, or 'latest'.
import { resolve } from 'node:path';
import { writeReportFile } from '../observe/report-file.ts';
import { readManifest } from '../provenance/runs.ts';
import { parseFlags } from './args.ts';

export async function reportCommand(args: string[]): Promise<number> {
  const { values, target } = parseFlags(args, {
    out: { type: 'string', default: 'out' },
    to: { type: 'string' },
  }, 'one run id (or a unique prefix of one, or latest)');
  const record = readManifest(values.out!, target);
  const to = await writeReportFile(record, values.to, resolve(values.out!));
  process.stdout.write(`run ${record.runId} (${record.manifest.workflow.name}, ${record.manifest.status}) → ${to}\n`);
  return 0;
}

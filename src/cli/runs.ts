// `quiver runs [--out DIR] [--json]`: the runs recorded in an output folder, newest first.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatSeconds } from '../observe/format.ts';
import { listRuns, runsDir, type RunEntry } from '../provenance/runs.ts';
import { UsageError } from './usage-error.ts';

export async function runsCommand(args: string[]): Promise<number> {
  let values: { out: string; json: boolean };
  try {
    const parsed = parseArgs({ args, options: { out: { type: 'string', default: 'out' }, json: { type: 'boolean', default: false } }, strict: true });
    values = parsed.values as typeof values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const runs = listRuns(values.out);
  if (runs.length === 0) throw new Error(`${values.out} has no runs (nothing in ${runsDir(values.out)})${elsewhere(values.out)}`);
  process.stdout.write((values.json ? JSON.stringify(runs, null, 2) : runsTable(runs)) + '\n');
  return 0;
}

export function runsTable(runs: RunEntry[]): string {
  const header = ['run', 'workflow', 'status', 'started (UTC)', 'time', 'tasks', 'cached', 'outputs'];
  const rows = runs.map((r) => [
    r.runId, r.workflow ?? '?', r.status,
    r.startedAt ? r.startedAt.slice(0, 19).replace('T', ' ') : '?',
    r.seconds === null ? '-' : formatSeconds(r.seconds),
    String(r.tasks), String(r.cached), String(r.outputs),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 4 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** `npm start` writes each workflow into OUT/<name>/: point there rather than just saying "none". */
function elsewhere(outDir: string): string {
  if (!existsSync(outDir)) return '';
  const nested = readdirSync(outDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(runsDir(join(outDir, d.name))))
    .map((d) => join(outDir, d.name));
  return nested.length ? `; runs are recorded in ${nested.join(', ')} (pass one as --out)` : '';
}

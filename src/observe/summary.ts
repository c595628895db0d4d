// The end-of-run summary: the `--json` object of DESIGN.md §3, and the plain table people read.
import { relative } from 'node:path';
import type { StageStats } from '../provenance/stage-stats.ts';
import { formatCount, formatSeconds } from './format.ts';

export interface StageSummary {
  id: string;
  use: string;
  tasks: number;
  cached: number;
  rowsIn: number;
  rowsOut: number;
  quarantined: number;
  seconds: number;
}

export interface RunSummary {
  runId: string;
  workflow: string;
  status: 'ok' | 'failed';
  stages: StageSummary[];
  /** Absolute paths of the files the sinks wrote. */
  outputs: string[];
  /** Absolute path of the run record. */
  manifest: string;
  seconds: number;
  error?: string;
  /** After a successful run: edges whose row counts do not agree (see reconcile.ts); empty is good. */
  unaccounted?: string[];
}

export function stageSummaries(stats: StageStats[]): StageSummary[] {
  return stats.map((s) => ({
    id: s.id, use: s.use, tasks: s.tasks, cached: s.cached, rowsIn: s.rowsIn, rowsOut: s.rowsOut,
    quarantined: s.quarantined, seconds: Math.round(s.seconds * 1000) / 1000,
  }));
}

export function summaryTable(summary: RunSummary): string {
  const header = ['stage', 'use', 'tasks', 'cached', 'rows in', 'rows out', 'quarantined', 'time'];
  const rows = summary.stages.map((s) => [
    s.id, s.use, String(s.tasks), String(s.cached), s.use.startsWith('source.') ? '-' : formatCount(s.rowsIn), formatCount(s.rowsOut), String(s.quarantined), formatSeconds(s.seconds),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  const out = [
    `${summary.workflow}: ${summary.status === 'ok' ? 'finished' : 'FAILED'} in ${formatSeconds(summary.seconds)} (run ${summary.runId})`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
  ];
  if (summary.outputs.length) out.push('', 'outputs:', ...summary.outputs.map((o) => `  ${relative(process.cwd(), o) || o}`));
  if (summary.unaccounted?.length) out.push('', 'rows unaccounted for:', ...summary.unaccounted.map((u) => `  ${u}`));
  if (summary.error) out.push('', `error: ${summary.error}`);
  return out.join('\n');
}

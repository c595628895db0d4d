// The run records under OUT/.quiver/runs/: list them, and find one by id, id prefix or 'latest'.
// A run folder without manifest.json is a run that never reached its end (killed, or still going).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Manifest } from './manifest.ts';

export type RunStatus = 'ok' | 'failed' | 'interrupted';

export interface RunEntry {
  runId: string;
  /** The run's folder, absolute when outDir was. */
  dir: string;
  /** null when neither the record nor the log names it. */
  workflow: string | null;
  status: RunStatus;
  startedAt: string | null;
  /** null for an interrupted run. */
  endedAt: string | null;
  seconds: number | null;
  outputs: number;
  /** Tasks run, summed over stages; cached: of those, served from the cache. */
  tasks: number;
  cached: number;
  error?: string;
}

export interface RunRecord {
  runId: string;
  dir: string;
  manifest: Manifest;
}

export const runsDir = (outDir: string) => join(outDir, '.quiver', 'runs');

/** Every run folder in OUT, newest first. */
export function listRuns(outDir: string): RunEntry[] {
  const root = runsDir(outDir);
  if (!existsSync(root)) return [];
  const entries = readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => describeRun(d.name, join(root, d.name)));
  // Start times carry milliseconds, so runs started in the same second still sort right; ids break ties.
  return entries.sort((a, b) => compareDesc(a.startedAt ?? '', b.startedAt ?? '') || compareDesc(a.runId, b.runId));
}

/** The record of one run: `ref` is a run id, a unique prefix of one, or 'latest' (the newest run with a record). */
export function readManifest(outDir: string, ref: string): RunRecord {
  const runs = listRuns(outDir);
  if (runs.length === 0) throw new Error(`${outDir} has no runs (no folders in ${runsDir(outDir)})`);
  let run: RunEntry | undefined;
  if (ref === 'latest') {
    run = runs.find((r) => r.status !== 'interrupted');
    if (!run) throw new Error(`${outDir} has no finished run; its ${runs.length} run(s) were interrupted: ${idList(runs)}`);
  } else {
    const matches = runs.filter((r) => r.runId === ref || r.runId.startsWith(ref));
    if (matches.length === 0) throw new Error(`no run '${ref}' in ${outDir}; runs there: ${idList(runs)}`);
    if (matches.length > 1) throw new Error(`'${ref}' matches ${matches.length} runs in ${outDir}: ${idList(matches)}; give more of the id`);
    run = matches[0];
  }
  const path = join(run.dir, 'manifest.json');
  if (!existsSync(path)) throw new Error(`run ${run.runId} has no record (${path}): it was interrupted before its end, or is still running`);
  return { runId: run.runId, dir: run.dir, manifest: JSON.parse(readFileSync(path, 'utf8')) as Manifest };
}

function describeRun(runId: string, dir: string): RunEntry {
  const path = join(dir, 'manifest.json');
  if (existsSync(path)) {
    try {
      return fromManifest(runId, dir, JSON.parse(readFileSync(path, 'utf8')) as Manifest);
    } catch (error) {
      return { ...fromLog(runId, dir), error: `unreadable manifest.json: ${(error as Error).message}` };
    }
  }
  return fromLog(runId, dir);
}

function fromManifest(runId: string, dir: string, m: Manifest): RunEntry {
  const stages = m.stages ?? [];
  return {
    runId, dir,
    workflow: m.workflow?.name ?? null,
    status: m.status,
    startedAt: m.startedAt,
    endedAt: m.endedAt,
    seconds: (Date.parse(m.endedAt) - Date.parse(m.startedAt)) / 1000,
    outputs: m.outputs?.length ?? 0,
    tasks: stages.reduce((n, s) => n + (s.stats?.tasks ?? 0), 0),
    cached: stages.reduce((n, s) => n + (s.stats?.cached ?? 0), 0),
    ...(m.error !== undefined ? { error: m.error } : {}),
  };
}

/** What the log's run-start line says; the id's own timestamp when there is not even that. */
function fromLog(runId: string, dir: string): RunEntry {
  let start: { workflow?: string; time?: string } | undefined;
  try {
    const first = readFileSync(join(dir, 'log.jsonl'), 'utf8').split('\n').find((l) => l.includes('"run-start"'));
    if (first) start = JSON.parse(first);
  } catch {
    // no log, or a torn line: fall back to the id
  }
  return {
    runId, dir,
    workflow: start?.workflow ?? null,
    status: 'interrupted',
    startedAt: start?.time ?? timeOfId(runId),
    endedAt: null, seconds: null, outputs: 0, tasks: 0, cached: 0,
  };
}

/** 20261128T001500Z-a1b2c3 → 2026-11-28T00:15:00.000Z */
function timeOfId(runId: string): string | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(runId);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.000Z` : null;
}

const compareDesc = (a: string, b: string) => (a < b ? 1 : a > b ? -1 : 0);

function idList(runs: RunEntry[], max = 10): string {
  const ids = runs.slice(0, max).map((r) => r.runId).join(', ');
  return runs.length > max ? `${ids} and ${runs.length - max} more` : ids;
}

/**
 * The most recent run record in the folder, if any. Run ids sort by their start to the second, so
 * only the records of the newest second that has any are read, and the latest start among them wins.
 */
export function latestManifest(outDir: string): Manifest | undefined {
  const runs = runsDir(outDir);
  const ids = existsSync(runs) ? readdirSync(runs).sort().reverse() : [];
  let best: Manifest | undefined;
  for (const id of ids) {
    if (best && id.slice(0, 16) !== best.runId.slice(0, 16)) break; // an earlier second
    try {
      const manifest = JSON.parse(readFileSync(join(runs, id, 'manifest.json'), 'utf8')) as Manifest;
      if (!best || manifest.startedAt > best.startedAt) best = manifest;
    } catch {
      // interrupted or still going (no record), or unreadable: as good as absent
    }
  }
  return best;
}

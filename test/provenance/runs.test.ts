// Listing the runs in an output folder and finding one by id, prefix or 'latest'.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { newRunId, runWorkflow } from '../../src/engine/run-workflow.ts';
import type { RunSummary } from '../../src/observe/summary.ts';
import { listRuns, readManifest, runsDir } from '../../src/provenance/runs.ts';
import { builtinCatalog } from '../../src/stages/index.ts';
import { repoRoot, scratchDir } from '../helpers.ts';

const generated = join(repoRoot, 'test', 'fixtures', 'generated.yaml');
const quiver = (...args: string[]) => {
  const result = spawnSync(process.execPath, [join(repoRoot, 'src/cli/quiver.mjs'), ...args], { cwd: repoRoot, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};

describe('run records', () => {
  const out = scratchDir();
  let ok: RunSummary;
  let failed: RunSummary;
  const killedId = newRunId(new Date(Date.now() + 3_600_000)); // newest of all
  const ancientId = '20000101T000000Z-0a0a0a';

  beforeAll(async () => {
    ok = await runWorkflow(generated, { catalog: builtinCatalog, out, workers: 1, set: ['partitions=2'] });
    failed = await runWorkflow(generated, { catalog: builtinCatalog, out, workers: 1, set: ['fail=true'] });
    // A run killed mid-way: its log began, its record was never written.
    const killed = join(runsDir(out), killedId);
    mkdirSync(killed, { recursive: true });
    const start = { level: 30, time: new Date(Date.now() + 3_600_000).toISOString(), event: 'run-start', runId: killedId, workflow: 'generated', msg: 'run started' };
    writeFileSync(join(killed, 'log.jsonl'), JSON.stringify(start) + '\n{"level":30,"time":"torn');
    // Killed before even its first log line: only the id says when.
    mkdirSync(join(runsDir(out), ancientId), { recursive: true });
  });

  test('listRuns: one entry per run folder, newest first, with status and counts', () => {
    expect(ok.status).toBe('ok');
    expect(failed.status).toBe('failed');
    const runs = listRuns(out);
    expect(runs.map((r) => r.runId)).toEqual([killedId, failed.runId, ok.runId, ancientId]);
    expect(runs.map((r) => r.status)).toEqual(['interrupted', 'failed', 'ok', 'interrupted']);
    const [killed, bad, good, ancient] = runs;
    expect(good).toMatchObject({
      workflow: 'generated', outputs: 1,
      tasks: ok.stages.reduce((n, s) => n + s.tasks, 0),
      cached: ok.stages.reduce((n, s) => n + s.cached, 0),
    });
    expect(good.tasks).toBeGreaterThan(0);
    expect(good.seconds).toBeCloseTo(ok.seconds, 3);
    expect(Date.parse(good.endedAt!)).toBeGreaterThanOrEqual(Date.parse(good.startedAt!));
    expect(bad.error).toMatch(/asked to fail/);
    expect(bad.outputs).toBe(0);
    expect(killed).toMatchObject({ workflow: 'generated', endedAt: null, seconds: null, tasks: 0 });
    expect(ancient).toMatchObject({ workflow: null, startedAt: '2000-01-01T00:00:00.000Z' });
    expect(listRuns(join(out, 'nothing-here'))).toEqual([]);
  });

  test('readManifest resolves a full id, a unique prefix and latest; clear errors otherwise', () => {
    expect(readManifest(out, ok.runId).manifest.runId).toBe(ok.runId);
    expect(readManifest(out, ok.runId.slice(0, -1)).manifest.params).toEqual({ partitions: 2, fail: false });
    // 'latest' skips the interrupted run: it has no record to read.
    expect(readManifest(out, 'latest').runId).toBe(failed.runId);
    expect(() => readManifest(out, 'zzz')).toThrow(new RegExp(`no run 'zzz' in .*${ok.runId}`));
    expect(() => readManifest(out, '2')).toThrow(/'2' matches 4 runs/);
    expect(() => readManifest(out, killedId.slice(0, 20))).toThrow(/has no record .* interrupted/);
    expect(() => readManifest(join(out, 'nothing-here'), 'latest')).toThrow(/has no runs/);
  });

  test('quiver runs: a table or JSON; exit 1 when OUT has no runs, 2 on bad flags', () => {
    const json = quiver('runs', '--out', out, '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).map((r: { runId: string; status: string }) => `${r.runId} ${r.status}`))
      .toEqual(listRuns(out).map((r) => `${r.runId} ${r.status}`));
    const table = quiver('runs', '--out', out);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^run\s+workflow\s+status\s+started \(UTC\)\s+time\s+tasks\s+cached\s+outputs$/);
    expect(lines.slice(2).map((l) => l.split(/\s+/)[0])).toEqual(listRuns(out).map((r) => r.runId));
    expect(lines.find((l) => l.startsWith(ok.runId))).toMatch(/generated\s+ok\s/);
    const none = quiver('runs', '--out', join(out, 'nothing-here'));
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('has no runs');
    expect(quiver('runs', 'extra').code).toBe(2);
  });
});

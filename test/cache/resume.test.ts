// Kill -9 at any moment, run again: the run resumes from what the killed one finished, computes
// only the rest, and its outputs are byte-identical to an uninterrupted run's. Kill points are
// random (seeded; the seed is printed: rerun one with QUIVER_RESUME_SEED=<seed>) and spread over
// the whole run, so they land while sources are read, maps and reduces run, and sinks commit.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { LocalExecutor } from '../../src/engine/executors/local.ts';
import { runWorkflow } from '../../src/engine/run-workflow.ts';
import type { RunSummary } from '../../src/observe/summary.ts';
import { builtinCatalog } from '../../src/stages/index.ts';
import { repoRoot, scratchDir } from '../helpers.ts';
import { cacheRecords, filesUnder, localStages, outputHashes, quiverBin, readManifestFile, sha256, writeText } from './util.ts';

const executor = new LocalExecutor({ workers: 2 });
afterAll(() => executor.close());
const root = scratchDir('quiver-resume-');
localStages(root);

// 40 partitions of CPU-bound work, a per-partition reduce, a single Parquet file of every row,
// a single Parquet file of the per-partition rows, and one CSV file per partition.
const file = writeText(join(root, 'resumable.yaml'), `name: resumable
stages:
  - id: gen
    use: source.generate
    with: { partitions: 40, rows: 2000, batchRows: 500, columns: { id: int64, x: float64 } }
  - id: burn
    use: ./stages.ts#burn
    from: gen
    with: { rounds: 400 }
  - id: agg
    use: table.aggregate
    from: burn
    with: { by: [], aggregates: { n: "count(*)", s: "sum(burned)", m: "max(burned)" }, scope: partition }
  - id: burned
    use: sink.parquet
    from: burn
    with: { path: burned.parquet }
  - id: aggs
    use: sink.parquet
    from: agg
    with: { path: aggs.parquet }
  - id: parts
    use: sink.csv
    from: agg
    with: { path: parts/ }
`);

const seed = Number(process.env.QUIVER_RESUME_SEED ?? Date.now() % 1_000_000_007);
console.log(`resume test seed: ${seed} (QUIVER_RESUME_SEED=${seed} repeats these kill points)`);

/** mulberry32: a small seeded generator, uniform in [0, 1). */
function random(s: number): () => number {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Anchor = 'lock' | 'record';

/** How many complete cache records there are (cheap enough to poll). */
const recordCount = (out: string) => cacheRecords(out).size;

/**
 * Starts `quiver run` in a child process and kills it with SIGKILL `delayMs` after the anchor: its
 * lock file appearing (it has loaded the workflow and taken the folder) or the first cache record
 * it stores (its first task is done). Without a delay it runs to its end; the times of both
 * anchors and of the end are returned (ms from the lock), to place kill points.
 */
async function runAndKill(out: string, kill?: { anchor: Anchor; delayMs: number }) {
  const before = recordCount(out); // a killed run's records, when it runs again
  const child = spawn(process.execPath, [quiverBin, 'run', file, '--out', out, '--workers', '2', '--json'], { cwd: repoRoot, stdio: 'ignore' });
  let code: number | null | undefined;
  const exited = new Promise<void>((r) => child.once('exit', (c) => { code = c; r(); }));
  const lock = join(out, '.quiver', 'lock');
  while (code === undefined && !existsSync(lock)) await sleep(5);
  const lockAt = Date.now();
  let recordAt: number | undefined;
  if (kill?.anchor === 'record' || !kill) {
    while (code === undefined && recordCount(out) <= before) await sleep(5);
    recordAt = Date.now();
  }
  if (kill?.anchor === 'lock') {
    // Before its first task is stored: at the delay, or at once if a task is stored sooner.
    const until = Date.now() + kill.delayMs;
    while (code === undefined && Date.now() < until && recordCount(out) <= before) await sleep(2);
  } else if (kill && code === undefined) await Promise.race([sleep(kill.delayMs), exited]);
  const killed = !!kill && code === undefined && child.kill('SIGKILL');
  await exited;
  return { killed, code, firstRecordMs: recordAt === undefined ? undefined : recordAt - lockAt, endMs: Date.now() - lockAt };
}

const run = (out: string) =>
  runWorkflow(file, { catalog: builtinCatalog, out, executor }).then((summary) => {
    expect(summary.status, summary.error).toBe('ok');
    return summary;
  });

/** Partition names per task group: a fused segment's stages share one task, the reduce has its own. */
const groupOf = (stage: string, partition: string) => (stage === 'agg' ? `agg ${partition}` : `gen+burn ${partition}`);

describe('resume after kill -9', () => {
  test('at random moments: resumes, finishes only what was not finished, byte-identical outputs, nothing half-written', async () => {
    const started = Date.now();
    // The uninterrupted run, in the CLI as the killed ones, timed from taking the folder: when its
    // first task was stored (its worker pool starts in between) and when it ended.
    const referenceDir = join(root, 'reference');
    const reference = await runAndKill(referenceDir);
    expect(reference.code).toBe(0);
    const expected = outputHashes(referenceDir);
    expect(Object.keys(expected)).toHaveLength(2 + 40);
    const startup = reference.firstRecordMs!;
    const work = Math.max(200, reference.endMs - startup);
    console.log(`uninterrupted run: ${(reference.endMs / 1000).toFixed(2)} s from taking the folder, first task stored after ${startup} ms`);

    // Kill points: one before any task is stored, then one per stratum of the part of the run that
    // computes, stores and writes (timed from its first stored task, to be robust to slow starts);
    // the last trial is killed twice (a resumed run killed again).
    const next = random(seed);
    const strata = 3;
    const plans: { anchor: Anchor; delayMs: number }[][] = [
      [{ anchor: 'lock', delayMs: Math.round(next() * startup) }],
      ...Array.from({ length: strata }, (_, i) => [{ anchor: 'record' as Anchor, delayMs: Math.round(((i + next()) / strata) * work * 1.05) }]),
    ];
    plans[plans.length - 1].unshift({ anchor: 'record', delayMs: Math.round(next() * work * 0.5) });
    const outcomes: string[] = [];
    for (const [trial, kills] of plans.entries()) {
      const out = join(root, `trial-${trial}`);
      const delay = kills.map((k) => `${k.delayMs} ms after its ${k.anchor === 'lock' ? 'start' : 'first stored task'}`).join(', then ');
      let killedAny = false;
      let inPlace = 0;
      for (const k of kills) {
        const { killed } = await runAndKill(out, k);
        killedAny ||= killed;
        const d = `${k.delayMs} ms after its ${k.anchor === 'lock' ? 'start' : 'first stored task'}`;
        // Whatever the kill left in OUT is complete: any output there has the uninterrupted bytes.
        const present = filesUnder(out).filter((p) => !p.endsWith('.tmp'));
        inPlace = present.length;
        for (const path of present) {
          expect(expected[path], `${path} after a kill ${d}`).toBeDefined();
          expect(sha256(join(out, path)), `${path} after a kill ${d}`).toBe(expected[path]);
        }
      }
      const records = cacheRecords(out);

      const resumed: RunSummary = await run(out);
      expect(outputHashes(out), `outputs after the kill ${delay}`).toEqual(expected);
      const temporary = filesUnder(out, { withQuiver: true }).filter((p) => p.endsWith('.tmp'));
      expect(temporary, `temporary files after the resumed run (kill ${delay})`).toEqual([]);

      // It resumed: every task whose cache entries were complete after the kill was taken from the
      // cache (or not needed), and only those. A fused task is complete when every stage in it is.
      const manifest = readManifestFile(resumed.manifest);
      const sinks = new Set(manifest.stages.filter((s) => s.kind === 'sink').map((s) => s.id));
      const stageTasks = manifest.tasks.filter((t) => !sinks.has(t.stage));
      const incomplete = new Set(stageTasks.filter((t) => !records.has(t.key)).map((t) => groupOf(t.stage, t.partition)));
      const reusable = stageTasks.filter((t) => !incomplete.has(groupOf(t.stage, t.partition)));
      const cached = resumed.stages.filter((s) => !s.use.startsWith('sink.')).reduce((n, s) => n + s.cached, 0);
      expect(cached, `cached tasks after the kill ${delay}`).toBe(reusable.length);
      // Each record found after the kill was reused, unless the kill cut its fused task between
      // the records of its stages (gen's written, burn's not): then that task ran again, whole.
      const byKey = new Map(stageTasks.map((t) => [t.key, t]));
      for (const key of records) {
        const t = byKey.get(key);
        expect(t, `record ${key} belongs to a task of this workflow`).toBeDefined();
        if (incomplete.has(groupOf(t!.stage, t!.partition))) expect(['gen', 'burn']).toContain(t!.stage);
      }
      for (const t of stageTasks) {
        const reused = !incomplete.has(groupOf(t.stage, t.partition));
        expect([t.stage, t.partition, t.status]).toEqual([t.stage, t.partition, reused ? expect.stringMatching(/^(cached|skipped)$/) : expect.stringMatching(/^(computed|skipped)$/)]);
      }
      expect(resumed.stages.find((s) => s.id === 'burn')!.rowsOut).toBe(80_000);
      outcomes.push(`kill ${delay}: ${killedAny ? 'killed' : 'had finished'}, ${records.size} cache records and ${inPlace} outputs in place, resumed with ${cached} of ${stageTasks.length} tasks cached`);
    }
    console.log(outcomes.join('\n'));
    console.log(`resume test: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  // A kill while the run record is being written leaves `manifest.json.PID.tmp`; the window is short
  // for the random kills above, so here it is made on purpose.
  test('the temporary run record of a run killed while writing it is removed by the next run', async () => {
    const out = join(root, 'killed-writing-record');
    const killedRun = join(out, '.quiver', 'runs', '20260101T000000Z-abcdef');
    writeText(join(killedRun, 'log.jsonl'), '');
    writeText(join(killedRun, 'manifest.json.4242.tmp'), '{"manifestVersion": 1, "runId": "20260101T0');
    await run(out);
    expect(filesUnder(out, { withQuiver: true }).filter((p) => p.endsWith('.tmp'))).toEqual([]);
  });
});

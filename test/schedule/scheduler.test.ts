// Cron schedules: fire times (time zones, DST), the overlap policy, catch-up, stopping, the
// schedule.jsonl records, and `quiver schedule` itself. Time is a FakeClock: nothing here waits
// on the real clock except the CLI tests and one short check that the real clock stops cleanly.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { LocalExecutor } from '../../src/engine/executors/local.ts';
import { runWorkflow } from '../../src/engine/run-workflow.ts';
import { systemClock } from '../../src/schedule/clock.ts';
import { scheduleProblems } from '../../src/schedule/cron.ts';
import { FakeClock } from '../../src/schedule/fake-clock.ts';
import { journalPath, readJournal, ScheduleJournal } from '../../src/schedule/journal.ts';
import { Scheduler, type ScheduleRecord, type SchedulerOptions } from '../../src/schedule/scheduler.ts';
import { builtinCatalog } from '../../src/stages/index.ts';
import { parseWorkflow } from '../../src/workflow/load.ts';
import { repoRoot, scratchDir } from '../helpers.ts';

const iso = (d: Date) => d.toISOString();
const at = (time: string) => `2025-01-01T${time}:00.000Z`;

/** A scheduler on a FakeClock whose runs each take `runMinutes` of fake time. */
function harness(options: Partial<SchedulerOptions> & { start: string; runMinutes?: number }) {
  const clock = new FakeClock(options.start);
  const records: ScheduleRecord[] = [];
  const runs: { firedAt: string; startedAt: string }[] = [];
  let active = 0;
  let maxActive = 0;
  const scheduler = new Scheduler({
    cron: '*/10 * * * *',
    clock,
    record: (r) => records.push(r),
    run: async (firedAt) => {
      runs.push({ firedAt: iso(firedAt), startedAt: iso(clock.now()) });
      maxActive = Math.max(maxActive, ++active);
      await clock.sleepUntil(new Date(clock.now().getTime() + (options.runMinutes ?? 0) * 60_000));
      active--;
      return { status: 'ok', runId: `run-${runs.length}` };
    },
    ...options,
  });
  const stop = new AbortController();
  let finished = false;
  const done = scheduler.run(stop.signal).then(() => { finished = true; });
  return { clock, records, runs, stop, done, maxActive: () => maxActive, finished: () => finished };
}

describe('fire times', () => {
  test('a daily cron in America/New_York moves by an hour of UTC across the March DST change', async () => {
    const h = harness({ cron: '0 9 * * *', timezone: 'America/New_York', start: '2025-03-07T12:00:00Z' });
    await h.clock.advanceTo('2025-03-11T00:00:00Z');
    // 09:00 EST (UTC-5) until Sunday 2025-03-09 02:00, then 09:00 EDT (UTC-4).
    const expected = ['2025-03-07T14:00:00.000Z', '2025-03-08T14:00:00.000Z', '2025-03-09T13:00:00.000Z', '2025-03-10T13:00:00.000Z'];
    expect(h.runs.map((r) => r.firedAt)).toEqual(expected);
    expect(h.runs.map((r) => r.startedAt)).toEqual(expected); // started at the fire time itself
    expect(h.records.map((r) => [r.outcome, r.scheduled])).toEqual(expected.map((t) => ['ran', t]));
    h.stop.abort();
    await h.done;
  });

  test('Europe/Berlin 02:30: in the spring gap it runs at 03:00; when 02:30 comes twice it runs once', async () => {
    const spring = harness({ cron: '30 2 * * *', timezone: 'Europe/Berlin', start: '2025-03-28T12:00:00Z' });
    await spring.clock.advanceTo('2025-04-01T00:00:00Z');
    // 02:30 CET = 01:30Z; 2025-03-30 has no 02:30 (02:00 → 03:00 CEST), so 03:00 CEST = 01:00Z; then 02:30 CEST = 00:30Z.
    expect(spring.runs.map((r) => r.firedAt)).toEqual(['2025-03-29T01:30:00.000Z', '2025-03-30T01:00:00.000Z', '2025-03-31T00:30:00.000Z']);
    spring.stop.abort();

    const autumn = harness({ cron: '30 2 * * *', timezone: 'Europe/Berlin', start: '2025-10-24T12:00:00Z' });
    await autumn.clock.advanceTo('2025-10-28T00:00:00Z');
    // 2025-10-26 02:30 happens at 00:30Z (CEST) and again at 01:30Z (CET): only the first runs.
    expect(autumn.runs.map((r) => r.firedAt)).toEqual(['2025-10-25T00:30:00.000Z', '2025-10-26T00:30:00.000Z', '2025-10-27T01:30:00.000Z']);
    autumn.stop.abort();
    await Promise.all([spring.done, autumn.done]);
  });

  test('the schedule is checked: bad expressions and time zones are one sentence naming the value', () => {
    expect(scheduleProblems({ cron: '0 6 * * 1-5', timezone: 'Europe/Berlin' })).toEqual([]);
    expect(scheduleProblems({ cron: '@daily' })).toEqual([]);
    expect(scheduleProblems({ cron: '61 * * * *' })).toEqual(["schedule: cron '61 * * * *' is not a valid cron expression (Invalid value for minute: 61)"]);
    expect(scheduleProblems({ cron: 'every day', timezone: 'Mars/Olympus' })).toEqual([
      "schedule: timezone 'Mars/Olympus' is not an IANA time zone name (such as UTC, Europe/Berlin, America/New_York)",
      expect.stringMatching(/^schedule: cron 'every day' is not a valid cron expression/),
    ]);
    expect(scheduleProblems({ cron: '2030-01-01T00:00:00' })[0]).toMatch(/^schedule: cron '2030-01-01T00:00:00' is not a valid cron expression/);
    expect(scheduleProblems({ cron: '0 0 30 2 *' })).toEqual(["schedule: cron '0 0 30 2 *' never fires"]);
  });

  test('the schedule key is strict: unknown keys and unknown overlap policies are problems', () => {
    const problems = (schedule: string) =>
      parseWorkflow(`name: x\nstages:\n  - { id: a, use: source.generate }\nschedule: ${schedule}\n`, 'wf.yaml', '.').problems.map((p) => p.message);
    expect(problems('{ cron: "0 6 * * *", overlap: queue, catchUp: true, timezone: UTC }')).toEqual([]);
    expect(problems('{ cron: "0 6 * * *", every: day }')).toEqual(["workflow: unknown key 'every' in 'schedule'"]);
    expect(problems('{ cron: "0 6 * * *", overlap: parallel }')).toEqual(['workflow: \'schedule.overlap\' must be one of "skip", "queue"']);
  });
});

describe('overlap policy', () => {
  test('skip: fire times that come while a run is going are skipped and recorded', async () => {
    // Every 10 minutes; each run takes 25.
    const h = harness({ start: '2025-01-01T00:00:30Z', runMinutes: 25 });
    await h.clock.advanceTo(at('00:45'));
    expect(h.runs).toEqual([{ firedAt: at('00:10'), startedAt: at('00:10') }, { firedAt: at('00:40'), startedAt: at('00:40') }]);
    expect(h.maxActive()).toBe(1);
    expect(h.records).toEqual([
      { outcome: 'skipped', scheduled: at('00:20'), reason: `the run for ${at('00:10')} (started ${at('00:10')}) is still going` },
      { outcome: 'skipped', scheduled: at('00:30'), reason: `the run for ${at('00:10')} (started ${at('00:10')}) is still going` },
      { outcome: 'ran', scheduled: at('00:10'), start: at('00:10'), end: at('00:35'), runId: 'run-1', status: 'ok' },
    ]);
    h.stop.abort();
    await h.clock.advanceTo(at('01:10'));
    await h.done;
  });

  test('queue: one fire time waits and runs right after; a second one is skipped', async () => {
    // Every 10 minutes; each run takes 23.
    const h = harness({ overlap: 'queue', start: '2025-01-01T00:00:30Z', runMinutes: 23 });
    await h.clock.advanceTo(at('00:57'));
    expect(h.runs).toEqual([
      { firedAt: at('00:10'), startedAt: at('00:10') },
      { firedAt: at('00:20'), startedAt: at('00:33') }, // queued, started when the first ended
      { firedAt: at('00:40'), startedAt: at('00:56') },
    ]);
    expect(h.maxActive()).toBe(1);
    expect(h.records.map((r) => [r.outcome, r.scheduled, r.start, r.end])).toEqual([
      ['skipped', at('00:30'), undefined, undefined],
      ['ran', at('00:10'), at('00:10'), at('00:33')],
      ['skipped', at('00:50'), undefined, undefined],
      ['ran', at('00:20'), at('00:33'), at('00:56')],
    ]);
    expect(h.records[0].reason).toBe(`the run for ${at('00:10')} is still going and the one for ${at('00:20')} is already queued`);
    expect(h.records[3].reason).toBe(`queued behind the run for ${at('00:10')}`);
    h.stop.abort();
    await h.clock.advanceTo(at('02:00'));
    await h.done;
  });

  test('a run that fails or throws is recorded as failed, and the schedule goes on', async () => {
    const clock = new FakeClock('2025-01-01T00:00:30Z');
    const records: ScheduleRecord[] = [];
    let calls = 0;
    const scheduler = new Scheduler({
      cron: '*/10 * * * *', clock, record: (r) => records.push(r),
      run: async () => {
        if (++calls === 1) throw new Error('disk full');
        return { status: calls === 2 ? 'failed' : 'ok', runId: `run-${calls}`, error: calls === 2 ? "stage 'x' failed" : undefined };
      },
    });
    const stop = new AbortController();
    const done = scheduler.run(stop.signal);
    await clock.advanceTo(at('00:35'));
    expect(records.map((r) => [r.outcome, r.scheduled, r.runId, r.error])).toEqual([
      ['failed', at('00:10'), undefined, 'disk full'],
      ['failed', at('00:20'), 'run-2', "stage 'x' failed"],
      ['ran', at('00:30'), 'run-3', undefined],
    ]);
    stop.abort();
    await done;
  });
});

describe('catch-up after a stall', () => {
  test('catchUp off: fire times passed while asleep are one missed record, and none of them runs', async () => {
    const h = harness({ start: '2025-01-01T00:00:30Z', runMinutes: 1 });
    await h.clock.advanceTo(at('00:15'));
    await h.clock.jumpTo(at('03:05')); // the machine slept from 00:15 to 03:05
    expect(h.records.slice(1)).toEqual([{
      outcome: 'missed', scheduled: at('00:20'), lastMissed: at('03:00'),
      reason: `noticed only at ${at('03:05')}: the machine slept or the process stalled`,
    }]);
    expect(h.runs.map((r) => r.firedAt)).toEqual([at('00:10')]);
    await h.clock.advanceTo(at('03:15'));
    // A wake-up 30 s late is not a stall: that fire time still runs.
    await h.clock.jumpTo('2025-01-01T03:20:30Z');
    expect(h.runs).toEqual([
      { firedAt: at('00:10'), startedAt: at('00:10') },
      { firedAt: at('03:10'), startedAt: at('03:10') },
      { firedAt: at('03:20'), startedAt: '2025-01-01T03:20:30.000Z' },
    ]);
    expect(h.records.filter((r) => r.outcome === 'missed')).toHaveLength(1);
    h.stop.abort();
    await h.clock.advanceTo(at('04:00'));
    await h.done;
  });

  test('catchUp on: one run starts right away for the missed fire times', async () => {
    const h = harness({ catchUp: true, start: '2025-01-01T00:00:30Z', runMinutes: 1 });
    await h.clock.advanceTo(at('00:15'));
    await h.clock.jumpTo(at('03:05'));
    expect(h.runs).toEqual([{ firedAt: at('00:10'), startedAt: at('00:10') }, { firedAt: at('03:00'), startedAt: at('03:05') }]);
    await h.clock.advanceTo(at('03:07'));
    expect(h.records.slice(1).map((r) => [r.outcome, r.scheduled, r.lastMissed, r.reason])).toEqual([
      ['missed', at('00:20'), at('03:00'), `noticed only at ${at('03:05')}: the machine slept or the process stalled`],
      ['ran', at('03:00'), undefined, 'catch-up for the missed fire times'],
    ]);
    h.stop.abort();
    await h.done;
  });
});

describe('stopping', () => {
  test('abort: the current run finishes, a queued fire time is recorded as skipped, no sleeper is left', async () => {
    const h = harness({ overlap: 'queue', start: '2025-01-01T00:00:30Z', runMinutes: 25 });
    await h.clock.advanceTo(at('00:21')); // 00:10 running until 00:35, 00:20 queued
    h.stop.abort();
    await h.clock.advanceTo(at('00:30'));
    expect(h.finished()).toBe(false); // still waiting for the run
    expect(h.records).toEqual([{ outcome: 'skipped', scheduled: at('00:20'), reason: 'the scheduler stopped before it could run' }]);
    await h.clock.advanceTo(at('00:40'));
    await h.done;
    expect(h.runs.map((r) => r.firedAt)).toEqual([at('00:10')]); // neither the queued nor 00:30 ran
    expect(h.records.at(-1)).toMatchObject({ outcome: 'ran', scheduled: at('00:10'), end: at('00:35') });
    expect(h.clock.sleeping).toBe(0);
  });

  test('on the real clock, abort ends the wait at once and leaves no timer behind', async () => {
    // Counted synchronously around each step (run arms its timer before its first await; abort
    // clears it in the abort listener), so no other timer of the process can come or go between.
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const scheduler = new Scheduler({ cron: '0 0 1 1 *', clock: systemClock, run: async () => ({ status: 'ok' }) });
    const stop = new AbortController();
    const before = timers();
    const done = scheduler.run(stop.signal);
    expect(timers()).toBe(before + 1); // sleeping on one (chunked) timer
    const t0 = Date.now();
    const armed = timers();
    stop.abort();
    expect(timers()).toBe(armed - 1);
    await done;
    // At once, not at the fire time (next 1 January): seconds at most even on a busy machine.
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
});

describe('a real workflow on a schedule', () => {
  test('two fire times give two runs: two records in schedule.jsonl and two manifests', async () => {
    const dir = scratchDir();
    const out = join(dir, 'out');
    const file = join(dir, 'tiny.yaml');
    writeFileSync(file, [
      'name: tiny-scheduled',
      'stages:',
      '  - { id: gen, use: source.generate, with: { partitions: 2, rows: 100, columns: { id: int64, x: float64 } } }',
      '  - { id: out, use: sink.parquet, from: gen, with: { path: tiny.parquet } }',
      'schedule: { cron: "*/5 * * * *", timezone: Europe/Berlin }',
      '',
    ].join('\n'));
    const clock = new FakeClock('2025-06-01T10:00:30Z');
    const journal = new ScheduleJournal(journalPath(out), (error) => { throw error; });
    const records: ScheduleRecord[] = [];
    const executor = new LocalExecutor({ workers: 1 });
    const scheduler = new Scheduler({
      cron: '*/5 * * * *', timezone: 'Europe/Berlin', clock,
      run: () => runWorkflow(file, { catalog: builtinCatalog, out, executor }),
      record: (r) => { records.push(r); journal.append({ workflow: 'tiny-scheduled', ...r }); },
    });
    const stop = new AbortController();
    const done = scheduler.run(stop.signal);
    try {
      await clock.advanceTo('2025-06-01T10:05:00Z');
      await until(() => records.length === 1);
      await clock.advanceTo('2025-06-01T10:10:00Z');
      await until(() => records.length === 2);
    } finally {
      stop.abort();
      await done;
      await executor.close();
      await journal.flush();
    }
    const lines = await readJournal(journalPath(out));
    expect(lines.map((l) => [l.workflow, l.outcome, l.status, l.scheduled])).toEqual([
      ['tiny-scheduled', 'ran', 'ok', '2025-06-01T10:05:00.000Z'],
      ['tiny-scheduled', 'ran', 'ok', '2025-06-01T10:10:00.000Z'],
    ]);
    const runIds = readdirSync(join(out, '.quiver', 'runs')).sort();
    expect(runIds).toEqual(lines.map((l) => l.runId).sort());
    expect(new Set(runIds).size).toBe(2);
    for (const id of runIds) {
      expect(JSON.parse(readFileSync(join(out, '.quiver', 'runs', id, 'manifest.json'), 'utf8')).status).toBe('ok');
    }
    expect(existsSync(join(out, 'tiny.parquet'))).toBe(true);
  });
});

describe('quiver schedule', () => {
  const quiver = (...args: string[]) => {
    const result = spawnSync(process.execPath, [join(repoRoot, 'src/cli/quiver.mjs'), ...args], { cwd: repoRoot, encoding: 'utf8' });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const workflowWith = (schedule: string) => {
    const file = join(scratchDir(), 'wf.yaml');
    writeFileSync(file, `name: wf\nstages:\n  - { id: gen, use: source.generate, with: { rows: 10 } }\n  - { id: out, use: sink.parquet, from: gen, with: { path: o.parquet } }\n${schedule}\n`);
    return file;
  };

  test('a workflow without a schedule is refused with exit 2', () => {
    const result = quiver('schedule', join('test', 'fixtures', 'generated.yaml'), '--out', scratchDir());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("test/fixtures/generated.yaml: has no 'schedule' to follow");
  });

  test('a bad cron expression fails validate and schedule with exit 2, naming the value', () => {
    const file = workflowWith('schedule: { cron: "61 * * * *" }');
    const validate = quiver('validate', file);
    expect(validate.code).toBe(2);
    expect(validate.stderr).toBe(`${file}: schedule: cron '61 * * * *' is not a valid cron expression (Invalid value for minute: 61)\n`);
    expect(quiver('schedule', file).code).toBe(2);
  });

  test('prints the next three fire times, then stops on SIGINT with exit 0', async () => {
    const file = workflowWith('schedule: { cron: "0 0 1 1 *", timezone: UTC }');
    const child = spawn(process.execPath, [join(repoRoot, 'src/cli/quiver.mjs'), 'schedule', file, '--out', scratchDir(), '--workers', '1'], { cwd: repoRoot });
    let stderr = '';
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await until(() => stderr.includes('next:'), 30_000);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const year = new Date().getUTCFullYear();
    expect(stderr).toContain(`next: ${year + 1}-01-01T00:00:00.000Z, ${year + 2}-01-01T00:00:00.000Z, ${year + 3}-01-01T00:00:00.000Z`);
    expect(stderr).toContain('stopping after the current run');
  });
});

/** Waits (in real time, briefly) for work that runs on real I/O, such as a workflow run. */
async function until(condition: () => boolean, timeoutMs = 240_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

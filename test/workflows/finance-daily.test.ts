// daily.yaml driven by its own schedule: a fake clock steps through eight evenings around a
// month end; before each fire time the "download job" writes the bars known that evening (the
// bundled SPY file cut at that date). The record must hold one forecast per run, each scored
// against the close the CSV gives for the next trading day; the model must be trained on the
// first run and on the first run of the new month only, on every day before that month.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { LocalExecutor } from '../../src/engine/executors/local.ts';
import { runWorkflow } from '../../src/index.ts';
import { FakeClock } from '../../src/schedule/fake-clock.ts';
import { Scheduler } from '../../src/schedule/scheduler.ts';
import { loadWorkflowFile } from '../../src/workflow/load.ts';
import { duckdb, repoRoot, scratchDir } from '../helpers.ts';

const workflow = join(repoRoot, 'workflows', 'finance', 'daily.yaml');
const dir = scratchDir();
const out = join(dir, 'out');
const bars = join(dir, 'bars.csv');
const executor = new LocalExecutor({ workers: 2 });
afterAll(() => executor.close());

const lines = readFileSync(join(repoRoot, 'data', 'finance', 'pandasta_SPY_D.csv'), 'utf8').trim().split('\n');
const rows = lines.slice(1).map((l) => l.split(','));
const dates = rows.map((r) => r[1]);
const closes = rows.map((r) => Number(r[5]));
const artifactHash = () => createHash('sha256').update(readFileSync(join(out, 'spy-daily-lstm', 'weights.bin'))).digest('hex');
const card = () => JSON.parse(readFileSync(join(out, 'spy-daily-lstm', 'quiver-model.json'), 'utf8'));

describe('finance/daily.yaml on its schedule', () => {
  test('one forecast per run, scored when the next close arrives; retrained on the first run of a month only', async () => {
    const loaded = await loadWorkflowFile(workflow);
    const schedule = loaded.spec!.schedule!;
    expect(schedule.cron).toBe('30 22 * * 1-5');
    const clock = new FakeClock('2020-07-27T23:00:00Z');
    const weights: string[] = [];
    const trainedRows: number[] = [];
    const notes: string[][] = [];
    const evenings: string[] = [];
    let running: Promise<unknown> = Promise.resolve();
    const scheduler = new Scheduler({
      ...schedule, clock,
      run: (firedAt) => (running = (async () => {
        const today = firedAt.toISOString().slice(0, 10);
        evenings.push(today);
        writeFileSync(bars, lines.slice(0, dates.indexOf(today) + 2).join('\n') + '\n');
        const summary = await runWorkflow(workflow, { out, executor, set: [`bars=${bars}`, 'epochs=2'], allowPaths: [dir, join(repoRoot, 'data')] });
        weights.push(artifactHash());
        trainedRows.push(card().trainingData.rows);
        notes.push(readFileSync(join(out, '.quiver', 'runs', summary.runId, 'log.jsonl'), 'utf8').split('\n')
          .filter((l) => l.includes('"event":"progress"')).map((l) => JSON.parse(l).note));
        return summary;
      })()) as never,
    });
    const stop = new AbortController();
    const scheduling = scheduler.run(stop.signal);
    // A day at a time, each run finished before the clock moves on (as runs of minutes, a day apart, are).
    for (let day = Date.parse('2020-07-27T23:00:00Z'); day <= Date.parse('2020-08-05T23:00:00Z'); day += 86_400_000) {
      await clock.advanceTo(new Date(day));
      await running;
    }
    stop.abort();
    await scheduling;

    // Mon-Fri evenings only: Jul 28-31, Aug 3-5.
    expect(evenings).toEqual(['2020-07-28', '2020-07-29', '2020-07-30', '2020-07-31', '2020-08-03', '2020-08-04', '2020-08-05']);
    // Trained on the first run and on Aug 3; reused unchanged otherwise.
    expect(new Set(weights.slice(0, 4)).size).toBe(1);
    expect(new Set(weights.slice(4)).size).toBe(1);
    expect(weights[4]).not.toBe(weights[0]);
    // Fitting rows: a window on every day before the month from the 21st on (20 returns; the first day has none).
    const before = (month: string) => dates.filter((d) => d < month).length - 20;
    expect(trainedRows).toEqual([...Array(4).fill(before('2020-07-01')), ...Array(3).fill(before('2020-08-01'))]);
    // Training says how its epochs go in the run log; a kept model says so.
    expect(notes[0][0]).toMatch(/^epoch 1\/2: loss [0-9.e-]+, validation [0-9.e-]+$/);
    expect(notes[1]).toEqual([`kept ${join(out, 'spy-daily-lstm')}/: trained on the same rows`]);

    const record = await duckdb(`SELECT strftime(date, '%Y-%m-%d'), close, lstm_close, linear_close, persistence_close,
      strftime(outcome_time, '%Y-%m-%d'), outcome FROM '${join(out, 'forecast-record.parquet')}' ORDER BY date`);
    expect(record.map((r) => r[0])).toEqual(evenings);
    for (const [i, r] of record.entries()) {
      const at = dates.indexOf(evenings[i]);
      expect(Number(r[1])).toBe(closes[at]);
      expect(Number(r[4])).toBe(closes[at]);
      // Forecasts stay within a few percent of the last close: they are one-day moves.
      for (const k of [2, 3]) expect(Math.abs(Number(r[k]) / closes[at] - 1)).toBeLessThan(0.05);
      if (i < record.length - 1) {
        expect(r[5]).toBe(dates[at + 1]);
        expect(Number(r[6])).toBe(closes[at + 1]);
      } else {
        expect(r[5]).toBeNull();
        expect(r[6]).toBeNull();
      }
    }

    // Rolling metrics over the six scored forecasts, computed here from the record.
    const metrics = await duckdb(`SELECT predicted, rows, mae, rmse FROM read_csv('${join(out, 'rolling-metrics.csv')}')`);
    const scored = record.slice(0, -1);
    expect(metrics.map((m) => m[0])).toEqual(['lstm_close', 'linear_close', 'persistence_close']);
    metrics.forEach((m, k) => {
      const errors = scored.map((r) => Number(r[2 + k]) - Number(r[6]));
      expect(Number(m[1])).toBe(6);
      expect(Number(m[2])).toBeCloseTo(errors.reduce((s, e) => s + Math.abs(e), 0) / 6, 9);
      expect(Number(m[3])).toBeCloseTo(Math.sqrt(errors.reduce((s, e) => s + e * e, 0) / 6), 9);
    });

    // Run again on the same evening: nothing in the record changes (the first forecast stands).
    const first = readFileSync(join(out, 'forecast-record.parquet'));
    const again = await runWorkflow(workflow, { out, executor, set: [`bars=${bars}`, 'epochs=2'], allowPaths: [dir, join(repoRoot, 'data')] });
    expect(again.status).toBe('ok');
    expect(readFileSync(join(out, 'forecast-record.parquet')).equals(first)).toBe(true);
  });
});

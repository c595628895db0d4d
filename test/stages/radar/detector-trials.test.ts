// source.radar-detector-trials against closed forms where they hold: with clutter 30 dB below the
// noise (exponential noise alone), CA at its closed-form factor (ca-closed-form) must give the
// nominal Pfa and Swerling I's Pd (1 + T/(N(1 + SNR)))^-N (N = 174 training cells), within 99.9 %
// Clopper–Pearson intervals; every detector's empirical threshold gives a Pfa whose interval is
// reported as computed; rows come per detector and SCR. Uses the committed clutter model.
import { describe, expect, test } from 'vitest';
import type { RecordBatch } from 'apache-arrow';
import { clopperPearson } from '../../../src/numeric/binomial-interval.ts';
import { caFactor } from '../../../src/stages/radar/lib/cfar-factor.ts';
import { radarDetectorTrialsSource } from '../../../src/stages/radar/radar-detector-trials.ts';

async function trials(raw: Record<string, unknown>) {
  const params = radarDetectorTrialsSource.params.parse(raw);
  const { schema, partitions } = await radarDetectorTrialsSource.discover(params, { baseDir: '.' });
  const batches: RecordBatch[] = [];
  for (const [index, partition] of partitions.entries()) {
    for await (const chunk of partition.chunks()) {
      for await (const batch of radarDetectorTrialsSource.read(chunk, params, { schema, partition: { index, key: partition.key } })) batches.push(batch);
    }
  }
  return batches.flatMap((b) => b.toArray().map((r) => r.toJSON() as Record<string, number | string>));
}

describe('source.radar-detector-trials', () => {
  test('in noise alone, CA at its closed-form factor meets the nominal Pfa and Swerling I Pd', async () => {
    const pfa = 1e-2;
    const rows = await trials({
      model: 'data/models/radar-clutter-cnn', pulses: 16, samples: 256, sample_rate_hz: 1e6, pri_s: 1e-3, center_frequency_hz: 1e9,
      clutter: { cnr_db: -30, shape: 1, spread_hz: 100 }, shapes: [50], scr_db: [10], pfa,
      validation_cpis: 3, test_cpis: 4, target_cpis: 20, targets_per_cpi: 8, target_band_hz: 150, seed: 4,
    });
    expect(rows.map((r) => r.detector)).toEqual(['ca', 'go', 'os', 'learned', 'ca-closed-form', 'learned-card']);
    const closed = rows.find((r) => r.detector === 'ca-closed-form')!;
    expect(closed.cells).toBe(4 * 16 * 256);
    expect(closed.targets).toBe(160);
    const falseAlarms = clopperPearson(closed.false_alarms as number, closed.cells as number, 1e-3);
    expect(pfa).toBeGreaterThan(falseAlarms.low);
    expect(pfa).toBeLessThan(falseAlarms.high);
    const n = 9 * 21 - 3 * 5;
    const theory = Math.pow(1 + caFactor(pfa, n) / (n * (1 + 10)), -n);
    const pd = clopperPearson(closed.detected as number, closed.targets as number, 1e-3);
    expect(theory).toBeGreaterThan(pd.low);
    expect(theory).toBeLessThan(pd.high);
    for (const r of rows) {
      const interval = clopperPearson(r.false_alarms as number, r.cells as number);
      expect(r.pfa_low).toBeCloseTo(interval.low, 12);
      expect(r.pfa_high).toBeCloseTo(interval.high, 12);
      expect(r.pd).toBeCloseTo((r.detected as number) / (r.targets as number), 12);
    }
  });
});

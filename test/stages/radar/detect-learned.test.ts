// radar.detect-learned with the committed model (data/models/radar-clutter-cnn, trained by
// workflows/radar/clutter-detector-train.yaml) on maps from the real stages (source.radar-sim →
// radar.doppler): it emits radar.cfar's columns, finds a strong target at its cell, its snr_db is
// the cell over its window's training mean (summed here cell by cell), and on clutter-only maps
// drawn as the training CPIs were its false-alarm rate at the card's pfa 1e-2 agrees with the
// calibration (both counts' 99.9 % Clopper–Pearson intervals overlap).
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { tensorValues } from '../../../src/arrow/tensor.ts';
import { clopperPearson } from '../../../src/numeric/binomial-interval.ts';
import { cfar } from '../../../src/stages/radar/cfar.ts';
import { detectLearned } from '../../../src/stages/radar/detect-learned.ts';
import { doppler } from '../../../src/stages/radar/doppler.ts';
import { column, runSteps, simulatedCpis } from './pipeline.ts';

const model = 'data/models/radar-clutter-cnn';
const card = JSON.parse(readFileSync(`${model}/quiver-model.json`, 'utf8'));
const radar = { sample_rate_hz: 1e6, pri_s: 1e-3, center_frequency_hz: 1e9, pulses: 16, samples: 256 };

describe('radar.detect-learned', () => {
  test('emits radar.cfar\'s columns and finds a target 25 dB over the clutter at its cell', async () => {
    // Row 8 + 1 (62.5 Hz) at 20 dB CNR: clutter 1 + 100 · 16 · 0.82 / 4.0 ≈ 330 a cell; the target 25 dB over it.
    const target = { range_bin: 100, doppler_hz: 62.5, snr_db: 10 * Math.log10(330 * 316 / 16), swerling: 0 };
    const { schema, batches } = await simulatedCpis({ ...radar, clutter: { cnr_db: 20, shape: 1, spread_hz: 100 }, targets: [target] }, 4, 3);
    const maps = await runSteps(schema, batches, [[doppler, { window: 'none' }]]);
    const out = await runSteps(maps[0].schema, maps, [[detectLearned, { model, pfa: 1e-2 }]]);
    const cfarOut = await runSteps(maps[0].schema, maps, [[cfar, { guard: { range: 2, doppler: 1 }, train: { range: 8, doppler: 3 } }]]);
    expect(out[0].schema.fields.map((f) => f.name)).toEqual([...cfarOut[0].schema.fields.map((f) => f.name), 'score']);
    const threshold = card.calibration.find((c: { pfa: number }) => c.pfa === 1e-2).value;
    for (const [cpi, batch] of out.entries()) {
      const rows = [...Array(batch.numRows).keys()];
      const hit = rows.find((i) => batch.getChild('range_bin')!.get(i) === 100 && batch.getChild('doppler_bin')!.get(i) === 9);
      expect(hit, `CPI ${cpi}: the target's cell is detected`).toBeDefined();
      expect(batch.getChild('threshold')!.get(hit!)).toBe(threshold);
      expect(batch.getChild('score')!.get(hit!)).toBeGreaterThan(threshold);
      // snr_db: the cell over the mean of its window outside the ±1 Doppler, ±2 range guard block.
      const map = tensorValues(maps[cpi], 'data');
      let ring = 0;
      for (let dd = -4; dd <= 4; dd++) for (let dr = -10; dr <= 10; dr++) {
        if (Math.abs(dd) > 1 || Math.abs(dr) > 2) ring += map[((9 + dd + 16) % 16) * 256 + 100 + dr];
      }
      expect(batch.getChild('snr_db')!.get(hit!)).toBeCloseTo(10 * Math.log10(map[9 * 256 + 100] / (ring / 174)), 6);
      expect(batch.getChild('range_m')!.get(hit!)).toBeCloseTo(100 * 149.896229, 3);
    }
    expect(column(out, 'cpi').length).toBeGreaterThan(0);
  });

  test('Pfa on clutter-only maps (ν 0.3–3 as trained, CNR 10 and 30 dB) agrees with the card\'s calibration for 1e-2', async () => {
    let cells = 0;
    let falseAlarms = 0;
    let seed = 100;
    for (const shape of [0.3, 0.5, 1, 3]) {
      for (const cnr of [10, 30]) {
        const { schema, batches } = await simulatedCpis({ ...radar, clutter: { cnr_db: cnr, shape, spread_hz: 100 } }, 1, seed++);
        const maps = await runSteps(schema, batches, [[doppler, { window: 'none' }]]);
        const out = await runSteps(maps[0].schema, maps, [[detectLearned, { model, pfa: 1e-2 }]]);
        falseAlarms += out.reduce((n, b) => n + b.numRows, 0);
        cells += 16 * 256;
      }
    }
    const measured = clopperPearson(falseAlarms, cells, 1e-3);
    const { validationNegatives } = card.calibration.find((c: { pfa: number }) => c.pfa === 1e-2);
    const calibrated = clopperPearson(Math.round(1e-2 * validationNegatives), validationNegatives, 1e-3);
    console.log(`radar.detect-learned at pfa 1e-2: ${falseAlarms} false alarms in ${cells} cells (${(falseAlarms / cells).toExponential(2)}, 99.9 % CI ${measured.low.toExponential(2)}–${measured.high.toExponential(2)})`);
    expect(measured.high).toBeGreaterThan(calibrated.low);
    expect(measured.low).toBeLessThan(calibrated.high);
  });

  test('a model folder without a threshold for the asked pfa is refused, naming the folder', async () => {
    const { schema, batches } = await simulatedCpis({ ...radar }, 1, 1);
    const maps = await runSteps(schema, batches, [[doppler, { window: 'none' }]]);
    await expect(runSteps(maps[0].schema, maps, [[detectLearned, { model, pfa: 0.2 }]])).rejects.toThrow(/radar-clutter-cnn.*thresholds for pfa 0\.001, 0\.01, 0\.1, not 0\.2/);
  });
});

// Reading nodule truth rows (medical.nodule-truth) and detection rows (medical.blob-candidates,
// scored or not) for matching: each row's volume is named by its key columns' values.
import type { RecordBatch, Schema } from 'apache-arrow';
import { numbers, requireNumbers } from '../../../arrow/added-columns.ts';
import { requireColumn } from '../../../arrow/columns.ts';
import type { Detection, TruthNodule } from './froc.ts';

const positionColumns = ['x_mm', 'y_mm', 'z_mm'];

/** Checks the truth input (`input` 1) and the detections (`input` 0, scored by `score`) have what matching needs. */
export function requireNoduleRows(detections: Schema, truth: Schema, keys: string[], score?: string) {
  for (const k of keys) {
    requireColumn(detections, k, 0);
    requireColumn(truth, k, 1);
  }
  requireNumbers(detections, [...positionColumns, ...(score ? [score] : [])]);
  requireNumbers(truth, [...positionColumns, 'diameter_mm', 'nodule']);
}

/** Each row's volume: its key columns' values as JSON. */
export const volumeKeys = (batch: RecordBatch, keys: string[]) =>
  Array.from({ length: batch.numRows }, (_, r) => JSON.stringify(keys.map((k) => batch.getChild(k)!.get(r))));

export function truthRows(batch: RecordBatch, keys: string[]): TruthNodule[] {
  const volume = volumeKeys(batch, keys);
  const [x, y, z, diameter, nodule] = [...positionColumns, 'diameter_mm', 'nodule'].map((c) => numbers(batch, c));
  return volume.map((v, r) => ({ volume: v, nodule: nodule[r], x: x[r], y: y[r], z: z[r], radius: diameter[r] / 2 }));
}

export function detectionRows(batch: RecordBatch, keys: string[], score?: string): Detection[] {
  const volume = volumeKeys(batch, keys);
  const [x, y, z] = positionColumns.map((c) => numbers(batch, c));
  const s = score ? numbers(batch, score) : new Float64Array(batch.numRows);
  return volume.map((v, r) => ({ volume: v, x: x[r], y: y[r], z: z[r], score: s[r] }));
}

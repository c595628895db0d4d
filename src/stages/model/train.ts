// `model.train`: trains a model on a table and emits it as one artifact row (for `sink.model`).
// Rows are assigned by a `split` column: `train` rows fit the weights, `validation` rows stop
// training early and (for a classifier given `pfa`) set the decision threshold from the scores of
// their negatives, `test` rows are held out and measured. Inputs are one float column or tensor
// column, standardised with the training rows' mean and standard deviation (kept in the card).
// The same rows, params, seed and backend give the same weights, bit for bit. With `reuse` (a
// folder a previous run's sink.model wrote, e.g. `${out}/model/`), a model already trained on the
// same rows with the same params is emitted as it is instead of being trained again: a scheduled
// workflow keeps its model until its training rows change (finance.refit-split sets the cadence).
// `reuse` may be a list: the first folder holding such a model wins (a reference workflow names its
// own output folder, then the model committed under data/models/ that `npm start` loads).
import { createHash } from 'node:crypto';
import { Type, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { tensorInfo } from '../../arrow/tensor.ts';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { artifactHash, modelToBytes, readArtifactBytes, type ModelBytes, type ModelCard } from '../../models/artifact.ts';
import { fit, predict, segmentationLosses } from '../../models/fit.ts';
import { modelRuntime } from '../../models/runtime.ts';
import { buildModel, layerSpec, outputActivations, type OutputActivation } from '../../models/spec.ts';
import { requireColumn } from '../../arrow/columns.ts';
import { ColumnTypeError, SchemaError } from '../../workflow/errors.ts';
import { defineReduce } from '../../workflow/stage.ts';
import { featureRows } from '../../arrow/added-columns.ts';
import { artifactBatch, artifactSchema } from '../../models/artifact-row.ts';

const params = z.object({
  input: z.string().min(1).describe('the feature column: a float tensor column or a number column'),
  label: z.string().min(1).describe('the target: 0/1 for a classifier, a number for regression; or a float tensor column (an image to predict pixel by pixel)'),
  split: z.string().min(1).default('split').describe("column saying 'train', 'validation' or 'test' per row"),
  task: z.enum(['binary-classification', 'regression']).default('binary-classification'),
  layers: z.array(layerSpec).describe("hidden layers; none: logistic (or linear) regression"),
  label_scale: z.number().positive().optional()
    .describe('regression: labels are divided by this for training and predictions multiplied back (kept in the card), so targets in gauss or kelvin train like targets near 1'),
  output_activation: z.enum(Object.keys(outputActivations) as [OutputActivation, ...OutputActivation[]]).optional()
    .describe('regression: the output unit\'s activation (default linear); every label must lie in its range'),
  epochs: z.number().int().min(1).default(20),
  batch_size: z.number().int().min(1).default(128),
  learning_rate: z.number().positive().default(1e-3),
  patience: z.number().int().min(0).default(3).describe('epochs without a better validation loss before stopping'),
  seed: z.number().int().default(0),
  loss: z.enum(segmentationLosses).default('cross-entropy').describe('a classifier of image targets (a segmenter): cross-entropy, soft Dice, or their sum'),
  pfa: z.number().gt(0).lt(1).optional().describe('classifier: the false-alarm rate the threshold is set for, on validation negatives'),
  weight: z.string().min(1).optional()
    .describe("regression of tensor targets: a float tensor column of the label's shape weighing each target value in the loss, Σ w (p − y)² / Σ w (0 leaves a value out); the test metrics are weighted alike"),
  calibrate: z.array(z.number().gt(0).lt(1)).optional().describe('classifier: more false-alarm rates to record thresholds for on validation negatives (the card\'s calibration)'),
  group: z.string().optional().describe('a column to break the test metrics down by (e.g. snr_db)'),
  reuse: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional()
    .describe('an artifact folder, or a list tried in order, to emit unchanged when it was trained on the same rows with the same params'),
}).strict();

type Params = z.output<typeof params>;

function rowShape(schema: import('apache-arrow').Schema, column: string): number[] {
  const field = requireColumn(schema, column);
  if (field.type.typeId === Type.FixedSizeList) return tensorInfo(schema, column).shape;
  if (field.type.typeId === Type.Float || field.type.typeId === Type.Int) return [];
  throw new ColumnTypeError(column, 'a float tensor or a number', String(field.type));
}

export const train = defineReduce({
  name: 'model.train',
  kind: 'reduce',
  version: '1',
  description: 'Trains a layers model (early stopping; seeded, repeatable) on train/validation/test rows; emits the artifact as one row.',
  params,
  outputSchema({ params: p, inputs: [input] }) {
    rowShape(input, p.input);
    const labelShape = rowShape(input, p.label);
    requireColumn(input, p.split);
    if (labelShape.length > 0 && p.pfa !== undefined) throw new SchemaError('pfa sets the threshold of a classifier with one score a row, not of a tensor target');
    if (p.group) requireColumn(input, p.group);
    if (p.pfa !== undefined && p.task !== 'binary-classification') throw new SchemaError('pfa sets a classifier\'s threshold: it needs task binary-classification');
    if (p.calibrate && p.pfa === undefined) throw new SchemaError('calibrate records thresholds beside the one for pfa: give pfa too');
    if (p.loss !== 'cross-entropy' && (p.task !== 'binary-classification' || labelShape.length === 0)) throw new SchemaError(`loss ${p.loss} is for a classifier of image targets (a segmenter)`);
    if (p.weight !== undefined) {
      if (p.task !== 'regression' || labelShape.length === 0) throw new SchemaError('weight weighs the values of a tensor target in a regression\'s loss: it needs task regression and a tensor label');
      if (JSON.stringify(rowShape(input, p.weight)) !== JSON.stringify(labelShape)) throw new SchemaError(`weight column '${p.weight}' is ${rowShape(input, p.weight).join(' × ') || 'a number'}, not the label's ${labelShape.join(' × ')}`);
    }
    if (p.output_activation !== undefined && p.task !== 'regression') throw new SchemaError('output_activation is for regression: a classifier\'s output is a sigmoid');
    if (p.label_scale !== undefined && p.task !== 'regression') throw new SchemaError('label_scale is for regression: a classifier\'s labels are 0 and 1');
    return artifactSchema;
  },
  scope: () => 'all',
  reads: (p) => reuseFolders(p),
  fingerprint: (p, { baseDir }) => reuseFolders(p).map((dir) => (existsSync(resolve(baseDir, dir, 'quiver-model.json')) ? artifactHash(resolve(baseDir, dir)) : 'none')).join(',') || 'none',
  create(p, { inputSchemas: [input], baseDir, progress }) {
    const shape = rowShape(input, p.input);
    const labelShape = rowShape(input, p.label);
    const x: Float32Array[] = [];
    const labels: Float32Array[] = [];
    const weights: Float32Array[] = [];
    const rows = { split: [] as string[], group: [] as unknown[] };
    return {
      push(batch: RecordBatch) {
        x.push(Float32Array.from(featureRows(batch, p.input).x));
        const y = Float32Array.from(featureRows(batch, p.label).x);
        const bad = y.findIndex((v) => !Number.isFinite(v));
        if (bad >= 0) throw new Error(`row ${rows.split.length + Math.floor(bad / Math.max(1, y.length / batch.numRows))} has a label that is not a number: every row needs one`);
        labels.push(y);
        if (p.weight) weights.push(Float32Array.from(featureRows(batch, p.weight).x));
        for (let i = 0; i < batch.numRows; i++) {
          rows.split.push(String(batch.getChild(p.split)!.get(i)));
          rows.group.push(p.group ? batch.getChild(p.group)!.get(i) : null);
        }
      },
      async end() {
        const joined = (parts: Float32Array[]) => {
          const out = new Float32Array(parts.reduce((n, part) => n + part.length, 0));
          parts.reduce((at, part) => (out.set(part, at), at + part.length), 0);
          return out;
        };
        const all = joined(x);
        const y = joined(labels);
        const w = p.weight ? joined(weights) : undefined;
        const hash = createHash('sha256').update(new Uint8Array(all.buffer)).update(new Uint8Array(y.buffer));
        if (w) hash.update(new Uint8Array(w.buffer));
        const trainingData = hash.update(rows.split.join('\n')).digest('hex');
        for (const dir of reuseFolders(p)) {
          const previous = reusable(resolve(baseDir, dir), trainingData, cardParams(p));
          if (!previous) continue;
          progress?.(`kept ${dir}: trained on the same rows`);
          return artifactBatch(previous);
        }
        return artifactBatch(await trainModel(p, { x: all, y, weights: w }, rows.split, rows.group, shape, labelShape, trainingData, progress));
      },
    };
  },
});

/**
 * The output unit's starting bias: a segmenter's is the logit of the training labels' share of
 * positives; a weighted regression's the weighted mean of its training targets (a repair network
 * starts from the mean of what it rebuilds, not from 0); 0 for other models.
 */
function startingBias(p: Params, y: Float32Array, weights: Float32Array | undefined, trainRows: Int32Array, labelShape: number[]): number {
  if (weights) {
    const size = labelShape.reduce((a, b) => a * b, 1);
    let [sum, total] = [0, 0];
    for (const r of trainRows) for (let i = r * size; i < (r + 1) * size; i++) [sum, total] = [sum + weights[i] * y[i], total + weights[i]];
    return total > 0 ? sum / total : 0;
  }
  if (p.task !== 'binary-classification' || labelShape.length === 0) return 0;
  const size = labelShape.reduce((a, b) => a * b, 1);
  let positives = 0;
  for (const r of trainRows) for (let i = r * size; i < (r + 1) * size; i++) positives += y[i];
  const share = Math.min(0.999, Math.max(0.001, positives / (trainRows.length * size)));
  return Math.log(share / (1 - share));
}

/** The folders `reuse` names, in the order they are tried. */
const reuseFolders = (p: Params): string[] => (p.reuse === undefined ? [] : typeof p.reuse === 'string' ? [p.reuse] : p.reuse);

/** The params a model's card records: what it was trained with (not where an old one might be). */
const cardParams = ({ reuse: _reuse, ...p }: Params): Record<string, unknown> => p;

/** The artifact in `dir`, if there is one trained on `trainingData` with `params`. */
function reusable(dir: string, trainingData: string, params: Record<string, unknown>): ModelBytes | undefined {
  if (!existsSync(join(dir, 'quiver-model.json'))) return undefined;
  const bytes = readArtifactBytes(dir);
  const same = bytes.card.trainingData.sha256 === trainingData && JSON.stringify(bytes.card.params) === JSON.stringify(params);
  return same ? bytes : undefined;
}

async function trainModel(p: Params, { x, y, weights }: { x: Float32Array; y: Float32Array; weights?: Float32Array }, split: string[], group: unknown[], shape: number[], labelShape: number[], trainingData: string, progress?: (note: string) => void) {
  const { tf, backend, version } = await modelRuntime();
  const size = Math.max(1, shape.reduce((a, b) => a * b, 1));
  const rowsOf = (name: string) => Int32Array.from(split.flatMap((s, i) => (s === name ? [i] : [])));
  const trainRows = rowsOf('train');
  const validationRows = rowsOf('validation');
  const testRows = rowsOf('test');
  const unknown = split.find((s) => s !== 'train' && s !== 'validation' && s !== 'test');
  if (unknown !== undefined) throw new Error(`split column '${p.split}' holds '${unknown}': rows must be 'train', 'validation' or 'test'`);
  if (trainRows.length === 0 || validationRows.length === 0) throw new Error(`training needs 'train' and 'validation' rows (there are ${trainRows.length} and ${validationRows.length})`);

  if (p.pfa !== undefined) {
    const negatives = validationRows.filter((r) => y[r] === 0).length;
    // Fewer than ten expected false alarms would leave the threshold to chance.
    for (const pfa of [p.pfa, ...(p.calibrate ?? [])]) {
      if (negatives * pfa < 10) throw new Error(`setting a threshold for pfa ${pfa} needs at least ${Math.ceil(10 / pfa)} validation negatives, not ${negatives}`);
    }
  }
  // Standardise with the training rows only.
  let sum = 0;
  let squares = 0;
  for (const r of trainRows) for (let i = r * size; i < (r + 1) * size; i++) {
    sum += x[i];
    squares += x[i] * x[i];
  }
  const count = trainRows.length * size;
  const mean = sum / count;
  const std = Math.sqrt(Math.max(squares / count - mean * mean, 0)) || 1;
  const normalised = x.map((v) => (v - mean) / std);
  const labelScale = p.label_scale ?? 1;
  const scaled = labelScale === 1 ? y : y.map((v) => v / labelScale);

  if (p.output_activation) {
    const [low, high] = outputActivations[p.output_activation];
    const outside = scaled.findIndex((v) => v < low || v > high);
    if (outside >= 0) {
      const row = Math.floor(outside / labelShape.reduce((a, b) => a * b, 1));
      throw new Error(`output_activation ${p.output_activation} gives values in [${low}, ${high}], but label '${p.label}' holds ${scaled[outside]} after label_scale (row ${row}): scale the labels into that range`);
    }
  }
  const model = buildModel(tf, p.layers, shape, p.task, p.seed, { outputShape: labelShape, outputActivation: p.output_activation, outputBias: startingBias(p, scaled, weights, trainRows, labelShape) });
  const rowShape = shape.length === 0 ? [1] : shape;
  const labelSize = labelShape.reduce((a, b) => a * b, 1);
  const data = { x: normalised, y: scaled, rowShape, labelShape, weights };
  try {
    // A classifier's classes weigh equally in the loss however rare positives are (one score a row only:
    // TensorFlow.js weighs classes of single outputs).
    const positives = trainRows.filter((r) => y[r] === 1).length;
    const classWeight = p.task === 'binary-classification' && labelShape.length === 0 && positives > 0 && positives < trainRows.length
      ? { 0: 1, 1: (trainRows.length - positives) / positives } : undefined;
    const result = await fit(tf, model, data, trainRows, validationRows, {
      task: p.task, epochs: p.epochs, batchSize: p.batch_size, learningRate: p.learning_rate, patience: p.patience, seed: p.seed, classWeight, loss: p.loss,
      onEpoch: (epoch, loss, validationLoss) => progress?.(`epoch ${epoch + 1}/${p.epochs}: loss ${loss.toPrecision(4)}, validation ${validationLoss.toPrecision(4)}`),
    });
    const scoresOf = async (rows: Int32Array) => {
      const picked = new Float32Array(rows.length * size);
      rows.forEach((r, i) => picked.set(normalised.subarray(r * size, (r + 1) * size), i * size));
      const scores = await predict(tf, model, picked, rowShape, 256, labelSize);
      return labelScale === 1 ? scores : scores.map((v) => v * labelScale);
    };
    const validationScores = await scoresOf(validationRows);
    const validationLabels = Array.from(validationRows, (r) => y.subarray(r * labelSize, (r + 1) * labelSize));
    if ((p.output_activation === 'relu' || p.output_activation === 'relu-tanh') && validationScores.every((v) => v === 0) && validationLabels.some((l) => l.some((v) => v > 0))) {
      throw new Error(`the output ReLU is dead: it gives 0 for every validation value, though the labels are not all 0, and a dead ReLU gets no gradient to recover; try another seed or a lower learning_rate`);
    }
    const testScores = testRows.length > 0 ? await scoresOf(testRows) : new Float32Array(0);
    const card: ModelCard = {
      format: 'quiver-model/1', task: p.task,
      input: { column: p.input, shape }, output: labelShape.length ? { column: 'prediction', shape: labelShape } : { column: 'score' },
      normalisation: { mean, std, ...(p.label_scale ? { labelScale: p.label_scale } : {}) },
      trainingData: { sha256: trainingData, rows: split.length },
      params: cardParams(p), seed: p.seed,
      metrics: { epochs: result.history.length, bestEpoch: result.bestEpoch, history: result.history },
      versions: { tfjs: version, backend, node: process.version },
    };
    if (labelShape.length > 0) {
      // Tensor targets: errors over every value of the test rows (weighted when the loss was), and, for a classifier, the share right at 0.5.
      let se = 0;
      let ae = 0;
      let right = 0;
      let values = 0;
      testRows.forEach((r, i) => {
        for (let k = 0; k < labelSize; k++) {
          const [got, want, weight] = [testScores[i * labelSize + k], y[r * labelSize + k], weights ? weights[r * labelSize + k] : 1];
          se += weight * (got - want) ** 2;
          ae += weight * Math.abs(got - want);
          values += weight;
          if ((got > 0.5) === (want > 0.5)) right++;
        }
      });
      card.metrics.test = { rows: testRows.length, mse: se / values, mae: ae / values, ...(p.task === 'binary-classification' ? { accuracy: right / (testRows.length * labelSize) } : {}) };
    } else if (p.task === 'binary-classification') {
      if (p.pfa !== undefined) card.threshold = threshold(validationScores, validationRows, y, p.pfa);
      if (p.calibrate) card.calibration = p.calibrate.map((pfa) => threshold(validationScores, validationRows, y, pfa));
      const cut = card.threshold?.value ?? 0.5;
      card.metrics.test = classification(testScores, testRows, y, cut, p.group ? group : undefined);
    } else {
      let se = 0;
      let ae = 0;
      testRows.forEach((r, i) => {
        se += (testScores[i] - y[r]) ** 2;
        ae += Math.abs(testScores[i] - y[r]);
      });
      card.metrics.test = { rows: testRows.length, mse: se / testRows.length, mae: ae / testRows.length };
    }
    return await modelToBytes(tf, model, card);
  } finally {
    model.dispose();
  }
}

/** The score above which no more than `pfa` of the validation negatives lie. */
function threshold(scores: Float32Array, rows: Int32Array, y: Float32Array, pfa: number) {
  const negatives = Float64Array.from([...rows.entries()].filter(([, r]) => y[r] === 0).map(([i]) => scores[i])).sort().reverse();
  const value = negatives[Math.floor(pfa * negatives.length)];
  return { value, pfa, validationNegatives: negatives.length };
}

/** Pfa, Pd and counts on the test rows at `cut` (score > cut is a detection), overall and by group. */
function classification(scores: Float32Array, rows: Int32Array, y: Float32Array, cut: number, group?: unknown[]) {
  const tally = () => ({ negatives: 0, falseAlarms: 0, positives: 0, detected: 0 });
  const all = tally();
  const byGroup = new Map<string, ReturnType<typeof tally>>();
  rows.forEach((r, i) => {
    const hit = scores[i] > cut;
    const targets = [all];
    if (group && y[r] === 1) {
      const key = String(group[r]);
      if (!byGroup.has(key)) byGroup.set(key, tally());
      targets.push(byGroup.get(key)!);
    }
    for (const t of targets) {
      if (y[r] === 1) {
        t.positives++;
        if (hit) t.detected++;
      } else {
        t.negatives++;
        if (hit) t.falseAlarms++;
      }
    }
  });
  const rates = (t: ReturnType<typeof tally>) => ({ ...t, pfa: t.negatives ? t.falseAlarms / t.negatives : null, pd: t.positives ? t.detected / t.positives : null });
  return { ...rates(all), byGroup: Object.fromEntries([...byGroup].sort(([a], [b]) => Number(a) - Number(b)).map(([k, t]) => [k, rates(t)])) };
}

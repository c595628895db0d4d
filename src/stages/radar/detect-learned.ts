// `radar.detect-learned`: a trained detector (a model folder model.train wrote from
// source.radar-patches windows, e.g. data/models/radar-clutter-cnn) applied to every cell of
// range-Doppler power maps (radar.doppler's output). Emits radar.cfar's columns, so it drops into a
// radar workflow in its place, plus the cell's `score`: `threshold` is the score threshold the
// model card gives for `pfa` (set on validation negatives), `snr_db` the cell's power over the mean
// of its window's training cells. With `cluster: true`, adjacent detections merge as in radar.cfar.
import { Field, Float64, type RecordBatch } from 'apache-arrow';
import { resolve } from 'node:path';
import { z } from 'zod';
import { tensorValues } from '../../arrow/tensor.ts';
import { artifactHash, readArtifactBytes } from '../../models/artifact.ts';
import { SchemaError } from '../../workflow/errors.ts';
import { defineMap } from '../../workflow/stage.ts';
import { clusters } from './cfar.ts';
import { windowMapProblem } from './lib/cell-windows.ts';
import { detectionBatch, detectionSchema, mapShape, type MapDetections } from './lib/detection-columns.ts';
import { learnedDetector, modelWindow, scoreThreshold } from './lib/learned-detector.ts';

const params = z.object({
  model: z.string().min(1).describe('the model folder (model.json, weights.bin, quiver-model.json), relative to the workflow folder'),
  pfa: z.number().gt(0).lt(1).optional().describe("false-alarm rate: picks the card's threshold for it (default: the card's own)"),
  guard: z.object({ range: z.number().int().min(0), doppler: z.number().int().min(0) }).strict().default({ range: 2, doppler: 1 })
    .describe('guard cells on each side of the window, as the training patches had them'),
  cluster: z.boolean().default(false).describe('merge adjacent detections (Doppler wraps) into one row at the strongest cell'),
  batch_size: z.number().int().min(1).default(2048).describe('windows per call into the model'),
}).strict();

type Params = z.output<typeof params>;

/** The model, its window and its threshold, or a SchemaError naming the model folder and the cause. */
function prepare(p: Params, baseDir: string) {
  const folder = resolve(baseDir, p.model);
  const bytes = readArtifactBytes(folder);
  const geometry = modelWindow(bytes.card, p.guard);
  if (typeof geometry === 'string') throw new SchemaError(`${folder}: ${geometry}`);
  const threshold = scoreThreshold(bytes.card, p.pfa);
  if (typeof threshold === 'string') throw new SchemaError(`${folder}: ${threshold}`);
  return { bytes, geometry, threshold };
}

export const detectLearned = defineMap({
  name: 'radar.detect-learned',
  kind: 'model',
  version: '1',
  description: "A trained window classifier applied to every cell of range-Doppler maps at the card's threshold for pfa; radar.cfar's columns plus score.",
  params,
  reads: (p) => [p.model],
  fingerprint: (p, { baseDir }) => artifactHash(resolve(baseDir, p.model)),
  outputSchema({ params: p, inputs: [input], baseDir }) {
    const [dopplerBins, rangeBins] = mapShape(input);
    const { geometry } = prepare(p, baseDir);
    const problem = windowMapProblem(geometry, dopplerBins, rangeBins);
    if (problem) throw new SchemaError(`radar.detect-learned: ${problem}`);
    return detectionSchema(input, [new Field('score', new Float64(), false)]);
  },
  async create(p, { inputSchema, outputSchema, baseDir }) {
    const [dopplerBins, rangeBins] = mapShape(inputSchema);
    const { bytes, geometry, threshold } = prepare(p, baseDir);
    const detector = await learnedDetector(bytes, geometry, p.batch_size);
    return async (batch: RecordBatch) => {
      const maps = tensorValues(batch, 'data');
      const size = dopplerBins * rangeBins;
      const parts: (MapDetections & { score: Float64Array })[] = [];
      for (let row = 0; row < batch.numRows; row++) {
        const map = maps.subarray(row * size, (row + 1) * size);
        const { scores, ratio } = await detector.score(map, dopplerBins, rangeBins);
        const hits: number[] = [];
        scores.forEach((s, cell) => {
          if (s > threshold.value) hits.push(cell);
        });
        const found = {
          doppler: Int32Array.from(hits, (c) => Math.floor(c / rangeBins)),
          range: Int32Array.from(hits, (c) => c % rangeBins),
          power: Float64Array.from(hits, (c) => map[c]),
          threshold: new Float64Array(hits.length).fill(threshold.value),
          estimate: Float64Array.from(hits, (c) => map[c] / ratio[c]),
        };
        // A cluster keeps its strongest cell; its score is that cell's.
        const part = p.cluster ? clusters(found, dopplerBins) : { ...found, cells: new Int32Array(hits.length).fill(1) };
        parts.push({ ...part, score: Float64Array.from(part.doppler, (d, i) => scores[d * rangeBins + part.range[i]]) });
      }
      return detectionBatch(batch, outputSchema, parts, dopplerBins, rangeBins, { score: (part, i) => (part as MapDetections & { score: Float64Array }).score[i] });
    };
  },
});

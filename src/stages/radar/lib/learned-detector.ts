// A trained per-cell detector (a classifier of CFAR-normalised windows, as source.radar-patches
// cuts them) applied to every cell of a range-Doppler map: the windows of all cells are cut
// (lib/cell-windows.ts), standardised as the model card says, and scored in batches. The window's
// size is the model's input shape; its guard block is given (it is not in the card).
import type { FloatArray } from '../../../arrow/tensor.ts';
import { loadModel, type ModelBytes, type ModelCard } from '../../../models/artifact.ts';
import { predict } from '../../../models/fit.ts';
import { modelRuntime } from '../../../models/runtime.ts';
import { normalisedWindows, type WindowGeometry } from './cell-windows.ts';

export interface CellScores {
  /** The model's score of every cell (or of the cells asked for), in [doppler, range] order. */
  scores: Float32Array;
  /** Each cell's power over its window's training mean. */
  ratio: Float64Array;
}

export interface LearnedDetector {
  score(map: FloatArray, dopplerBins: number, rangeBins: number, cells?: ArrayLike<number>): Promise<CellScores>;
}

/** The window a model of input shape [height, width] reads, with guard cells `guard` on each side; or why it cannot. */
export function modelWindow(card: ModelCard, guard: WindowGeometry['guard']): WindowGeometry | string {
  const shape = card.input.shape;
  if (card.task !== 'binary-classification' || shape.length !== 2 || shape[0] % 2 === 0 || shape[1] % 2 === 0) {
    return `the model is not a detector of range-Doppler windows: it is a ${card.task} of input shape ${JSON.stringify(shape)}, not a classifier of odd-sized [doppler, range] windows`;
  }
  const train = { doppler: (shape[0] - 1) / 2 - guard.doppler, range: (shape[1] - 1) / 2 - guard.range };
  if (train.doppler < 0 || train.range < 0) return `a guard block of ±${guard.doppler} Doppler, ±${guard.range} range cells does not fit the model's ${shape[0]} × ${shape[1]} window`;
  return { guard, train };
}

/** The score threshold for `pfa`: the card's own, or one from its calibration; undefined pfa takes the card's. */
export function scoreThreshold(card: ModelCard, pfa?: number): { value: number; pfa: number } | string {
  const known = [...(card.threshold ? [card.threshold] : []), ...(card.calibration ?? [])];
  if (known.length === 0) return 'the model card has no threshold: train it with pfa';
  const found = pfa === undefined ? known[0] : known.find((t) => Math.abs(t.pfa - pfa) <= 1e-9 * pfa);
  if (!found) return `the model card has thresholds for pfa ${known.map((t) => t.pfa).join(', ')}, not ${pfa}`;
  return { value: found.value, pfa: found.pfa };
}

export async function learnedDetector(bytes: ModelBytes, geometry: WindowGeometry, batchSize = 2048): Promise<LearnedDetector> {
  const { tf } = await modelRuntime();
  const model = await loadModel(tf, bytes);
  const shape = bytes.card.input.shape;
  const size = shape[0] * shape[1];
  const { mean, std } = bytes.card.normalisation;
  return {
    async score(map, dopplerBins, rangeBins, cells) {
      const count = cells ? cells.length : dopplerBins * rangeBins;
      const windows = new Float32Array(count * size);
      const ratio = normalisedWindows(map, dopplerBins, rangeBins, geometry, windows, cells);
      for (let i = 0; i < windows.length; i++) windows[i] = (windows[i] - mean) / std;
      return { scores: await predict(tf, model, windows, shape, batchSize), ratio };
    },
  };
}

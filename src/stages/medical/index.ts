// Medical imaging: HU windows, orientation, resampling, lung masks, measures, de-identification, slices,
// simulated nodules and nodule detection (LoG candidates, matching, FROC).
import type { Stage } from '../../workflow/stage.ts';
import { blobCandidates } from './blob-candidates.ts';
import { compareMasks } from './compare-masks.ts';
import { deidentify } from './deidentify.ts';
import { froc } from './froc.ts';
import { huWindow } from './hu-window.ts';
import { insertNodulesStage } from './insert-nodules.ts';
import { lungMaskStage } from './lung-mask.ts';
import { matchNodules } from './match-nodules.ts';
import { measure } from './measure.ts';
import { noduleTruth } from './nodule-truth.ts';
import { orient } from './orient.ts';
import { patchSymmetries } from './patch-symmetries.ts';
import { resample } from './resample.ts';
import { slices } from './slices.ts';
import { stack } from './stack.ts';

export const medicalStages: Stage[] = [
  huWindow, orient, resample, lungMaskStage, measure, compareMasks, deidentify, slices, stack,
  insertNodulesStage, noduleTruth, blobCandidates, matchNodules, froc, patchSymmetries,
];

// Medical imaging: HU windows, orientation, resampling, lung masks, measures, de-identification, slices.
import type { Stage } from '../../workflow/stage.ts';
import { compareMasks } from './compare-masks.ts';
import { deidentify } from './deidentify.ts';
import { huWindow } from './hu-window.ts';
import { lungMaskStage } from './lung-mask.ts';
import { measure } from './measure.ts';
import { orient } from './orient.ts';
import { resample } from './resample.ts';
import { slices } from './slices.ts';
import { stack } from './stack.ts';

export const medicalStages: Stage[] = [
  huWindow, orient, resample, lungMaskStage, measure, compareMasks, deidentify, slices, stack,
];

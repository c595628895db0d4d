// Astronomy: GOES flares, calibration, background, detection, cross-matching, radio imaging, deconvolution, super-resolution and EUV over-exposure repair.
import type { Stage } from '../../workflow/stage.ts';
import { background } from './background.ts';
import { calibrate } from './calibrate.ts';
import { combine } from './combine.ts';
import { crossmatch } from './crossmatch.ts';
import { imageMetrics, observe, skySim } from './deconvolution.ts';
import { detect } from './detect.ts';
import { flares } from './flares.ts';
import { goesXrs } from './goes-xrs.ts';
import { inpaint } from './inpaint.ts';
import { inpaintMetrics } from './inpaint-metrics.ts';
import { keywords } from './keywords.ts';
import { overexposurePairs } from './overexposure-pairs.ts';
import { saturationMaskStage } from './saturation-mask.ts';
import { superResolutionMetrics } from './super-resolution-metrics.ts';
import { degrade, superResolutionPairs } from './super-resolution-pairs.ts';
import { superResolveStage } from './super-resolve.ts';
import { clean, dirtyImageStage, visibilities } from './synthesis.ts';

export const astroStages: Stage[] = [
  goesXrs, flares, keywords, combine, calibrate, background, detect, crossmatch, visibilities, dirtyImageStage, clean, skySim, observe, imageMetrics,
  saturationMaskStage, overexposurePairs, inpaint, inpaintMetrics,
  degrade, superResolutionPairs, superResolveStage, superResolutionMetrics,
];

// Radar: pulse compression, MTI, beamforming, Doppler, CFAR; simulated CPIs and detector patches;
// weather-radar sweeps: ground-clutter filter and polar-to-Cartesian resampling.
import type { Stage } from '../../workflow/stage.ts';
import { beamform } from './beamform.ts';
import { cfar } from './cfar.ts';
import { clutterFilter } from './clutter-filter.ts';
import { doppler } from './doppler.ts';
import { mti } from './mti.ts';
import { polarToCartesian } from './polar-to-cartesian.ts';
import { pulseCompress } from './pulse-compress.ts';
import { radarPatchesSource } from './radar-patches.ts';
import { radarSimSource } from './radar-sim.ts';

export const radarStages: Stage[] = [
  pulseCompress, mti, beamform, doppler, cfar, radarSimSource, radarPatchesSource, clutterFilter, polarToCartesian,
];

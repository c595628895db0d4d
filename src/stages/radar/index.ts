// Radar: pulse compression, MTI, beamforming, Doppler, STAP, CFAR and a learned detector; simulated CPIs,
// detector patches and detector trials in clutter;
// micro-Doppler: simulated targets, spectrograms and their features;
// weather-radar sweeps: ground-clutter filter and polar-to-Cartesian resampling.
import type { Stage } from '../../workflow/stage.ts';
import { beamform } from './beamform.ts';
import { cfar } from './cfar.ts';
import { detectLearned } from './detect-learned.ts';
import { clutterFilter } from './clutter-filter.ts';
import { doppler } from './doppler.ts';
import { microDopplerSource } from './micro-doppler.ts';
import { microDopplerFeaturesStage } from './micro-doppler-features.ts';
import { mti } from './mti.ts';
import { polarToCartesian } from './polar-to-cartesian.ts';
import { pulseCompress } from './pulse-compress.ts';
import { radarDetectorTrialsSource } from './radar-detector-trials.ts';
import { radarPatchesSource } from './radar-patches.ts';
import { radarSimSource } from './radar-sim.ts';
import { stap } from './stap.ts';
import { stft } from './stft.ts';

export const radarStages: Stage[] = [
  pulseCompress, mti, beamform, doppler, cfar, radarSimSource, radarPatchesSource, clutterFilter, polarToCartesian,
  microDopplerSource, stft, microDopplerFeaturesStage, stap, detectLearned, radarDetectorTrialsSource,
];

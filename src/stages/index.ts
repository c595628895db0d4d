// The built-in stage library: every name a workflow file can `use` without a stage file.
import { arrowSink, arrowSource } from '../../connectors/arrow-ipc.ts';
import { csvSink, csvSource } from '../../connectors/csv/index.ts';
import { dicomSource } from '../../connectors/dicom.ts';
import { fitsSource } from '../../connectors/fits.ts';
import { niftiSource } from '../../connectors/nifti.ts';
import { niftiSink } from '../../connectors/nifti-sink.ts';
import { fitsSink } from '../../connectors/fits-sink.ts';
import { generateSource } from '../../connectors/generate.ts';
import { parquetSink, parquetSource } from '../../connectors/parquet.ts';
import { modelSink } from '../../connectors/model-artifact.ts';
import { plotSink } from '../../connectors/svg-plot.ts';
import { radarPatchesSource } from '../../connectors/radar-patches.ts';
import { radarSimSource } from '../../connectors/radar-sim.ts';
import { sigmfSource } from '../../connectors/sigmf.ts';
import { background } from './astro/background.ts';
import { imageMetrics, observe, skySim } from './astro/deconvolution.ts';
import { clean, dirtyImageStage, visibilities } from './astro/synthesis.ts';
import { calibrate } from './astro/calibrate.ts';
import { combine } from './astro/combine.ts';
import { crossmatch } from './astro/crossmatch.ts';
import { detect } from './astro/detect.ts';
import { compareMasks } from './medical/compare-masks.ts';
import { deidentify } from './medical/deidentify.ts';
import { huWindow } from './medical/hu-window.ts';
import { lungMaskStage } from './medical/lung-mask.ts';
import { measure } from './medical/measure.ts';
import { orient } from './medical/orient.ts';
import { resample } from './medical/resample.ts';
import { slices } from './medical/slices.ts';
import { stack } from './medical/stack.ts';
import { flares } from './astro/flares.ts';
import { goesXrs } from './astro/goes-xrs.ts';
import { keywords } from './astro/keywords.ts';
import { align } from './finance/align.ts';
import { forecastRecord } from './finance/forecast-record.ts';
import { refitSplit } from './finance/refit-split.ts';
import { returns } from './finance/returns.ts';
import { rolling } from './finance/rolling.ts';
import { scale } from './finance/scale.ts';
import { split } from './finance/split.ts';
import { slidingWindow } from './finance/window.ts';
import { apply } from './model/apply.ts';
import { augment } from './model/augment.ts';
import { features } from './model/features.ts';
import { groupSplit } from './model/group-split.ts';
import { kmeansStage } from './model/kmeans.ts';
import { linear } from './model/linear.ts';
import { naiveBayes } from './model/naive-bayes.ts';
import { classificationMetrics } from './model/classification-metrics.ts';
import { predict } from './model/predict.ts';
import { regressionMetricsStage } from './model/regression-metrics.ts';
import { train } from './model/train.ts';
import { beamform } from './radar/beamform.ts';
import { cfar } from './radar/cfar.ts';
import { doppler } from './radar/doppler.ts';
import { mti } from './radar/mti.ts';
import { pulseCompress } from './radar/pulse-compress.ts';
import { StageCatalog } from '../workflow/catalog.ts';
import type { Stage } from '../workflow/stage.ts';
import { aggregate } from './table/aggregate.ts';
import { cast } from './table/cast.ts';
import { concat } from './table/concat.ts';
import { derive } from './table/derive.ts';
import { filter } from './table/filter.ts';
import { requireRows } from './table/require.ts';
import { join } from './table/join.ts';
import { limit } from './table/limit.ts';
import { rename } from './table/rename.ts';
import { select } from './table/select.ts';
import { sort } from './table/sort.ts';

export const builtinStages: Stage[] = [
  arrowSource, arrowSink, csvSource, csvSink, parquetSource, parquetSink, sigmfSource, fitsSource, fitsSink, dicomSource, niftiSource, niftiSink, radarSimSource, radarPatchesSource, generateSource,
  select, rename, cast, filter, requireRows, derive, sort, aggregate, join, concat, limit,
  pulseCompress, mti, beamform, doppler, cfar,
  train, predict, apply, augment, features, groupSplit, linear, naiveBayes, kmeansStage, modelSink, plotSink, classificationMetrics, regressionMetricsStage,
  goesXrs, flares, keywords, combine, calibrate, background, detect, crossmatch, visibilities, dirtyImageStage, clean, skySim, observe, imageMetrics,
  huWindow, orient, resample, lungMaskStage, measure, compareMasks, deidentify, slices, stack,
  align, returns, rolling, split, refitSplit, scale, slidingWindow, forecastRecord,
];

export const builtinCatalog = new StageCatalog(builtinStages);

// Models: training, prediction, features, metrics, classic learners; the model artifact sink.
import type { Stage } from '../../workflow/stage.ts';
import { apply } from './apply.ts';
import { augment } from './augment.ts';
import { classificationMetrics } from './classification-metrics.ts';
import { confusion } from './confusion.ts';
import { features } from './features.ts';
import { groupSplit } from './group-split.ts';
import { kmeansStage } from './kmeans.ts';
import { linear } from './linear.ts';
import { modelSink } from './model-sink.ts';
import { naiveBayes } from './naive-bayes.ts';
import { predict } from './predict.ts';
import { regressionMetricsStage } from './regression-metrics.ts';
import { train } from './train.ts';

export const modelStages: Stage[] = [
  train, predict, apply, augment, features, groupSplit, linear, naiveBayes, kmeansStage, modelSink, classificationMetrics, confusion, regressionMetricsStage,
];

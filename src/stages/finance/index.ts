// Finance: alignment, returns, rolling windows, time-ordered splits, scaling, forecast records.
import type { Stage } from '../../workflow/stage.ts';
import { align } from './align.ts';
import { forecastRecord } from './forecast-record.ts';
import { refitSplit } from './refit-split.ts';
import { returns } from './returns.ts';
import { rolling } from './rolling.ts';
import { scale } from './scale.ts';
import { split } from './split.ts';
import { slidingWindow } from './window.ts';

export const financeStages: Stage[] = [
  align, returns, rolling, split, refitSplit, scale, slidingWindow, forecastRecord,
];

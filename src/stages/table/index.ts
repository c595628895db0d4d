// Table operations: select, filter, derive, join, aggregate…; generated test partitions and line plots.
import type { Stage } from '../../workflow/stage.ts';
import { aggregate } from './aggregate.ts';
import { cast } from './cast.ts';
import { concat } from './concat.ts';
import { derive } from './derive.ts';
import { filter } from './filter.ts';
import { generateSource } from './generate.ts';
import { join } from './join.ts';
import { limit } from './limit.ts';
import { plotSink } from './plot.ts';
import { rename } from './rename.ts';
import { requireRows } from './require.ts';
import { select } from './select.ts';
import { sort } from './sort.ts';

export const tableStages: Stage[] = [
  select, rename, cast, filter, requireRows, derive, sort, aggregate, join, concat, limit, generateSource, plotSink,
];

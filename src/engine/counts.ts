// How tasks add to a stage's statistics: computed ones by what the worker counted, cached ones by
// the rows their record kept from when they were computed.
import type { StageStats } from '../provenance/stage-stats.ts';
import type { TaskRecord } from './partition-cache.ts';
import type { StageCounts } from './task.ts';

export function addCounts(into: StageCounts | StageStats, c: StageCounts): void {
  into.rowsIn += c.rowsIn;
  into.rowsOut += c.rowsOut;
  into.quarantined += c.quarantined;
  into.seconds += c.seconds;
}

export const zeroCounts = (): StageCounts => ({ rowsIn: 0, rowsOut: 0, quarantined: 0, seconds: 0 });

/** A task served from the cache: it counts, with the rows it had when it was computed. */
export function countCached(stats: StageStats, record: TaskRecord | undefined): void {
  stats.tasks++;
  stats.cached++;
  if (!record) return;
  stats.rowsIn += record.rowsIn;
  stats.rowsOut += record.rowsOut;
  stats.quarantined += record.quarantined;
}

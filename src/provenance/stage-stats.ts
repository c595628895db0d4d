// What each stage has done so far: read by progress displays while a run goes, and by the summary.
export interface StageStats {
  id: string;
  use: string;
  kind: string;
  /** Tasks (segment × partition) finished. */
  tasks: number;
  /** Tasks served from the cache. */
  cached: number;
  /** Partitions expected, when known. */
  tasksTotal?: number;
  rowsIn: number;
  rowsOut: number;
  quarantined: number;
  /** Seconds spent in the stage's own code (summed over workers). */
  seconds: number;
  /** What a long step of the stage is doing now (a reduce's progress note). */
  note?: string;
  /** It stopped reading before its input ended (a limit was reached). */
  stoppedEarly?: boolean;
}

export function emptyStats(id: string, use: string, kind: string): StageStats {
  return { id, use, kind, tasks: 0, cached: 0, rowsIn: 0, rowsOut: 0, quarantined: 0, seconds: 0 };
}

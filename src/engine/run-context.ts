// What every node's runner shares while a plan runs (runner.ts makes it): the plan, the executor,
// the cache decisions, the channels between nodes, the quarantine and the per-stage statistics.
import type { InputStamp } from '../cache/input-hashes.ts';
import type { Logger } from '../observe/logger.ts';
import type { StageStats } from '../provenance/stage-stats.ts';
import type { Channel } from './channel.ts';
import type { TaskDecisions } from './decide.ts';
import type { Plan } from './plan.ts';
import type { Privacy } from './privacy.ts';
import type { Quarantine } from './quarantine.ts';
import type { Executor } from './task.ts';

export interface RunContext {
  plan: Plan;
  executor: Executor;
  tasks: TaskDecisions;
  outDir: string;
  quarantine: Quarantine;
  /** Which stages handle patient data before de-identification (their errors keep no row values). */
  privacy?: Privacy;
  log?: Logger;
  /** Input files as they were hashed (see SegmentRunner's check before a partition is kept). */
  inputStamps?: Map<string, InputStamp>;
  signal: AbortSignal;
  /** Bytes of task requests and results a segment may have in flight beyond one per worker (default 64 MiB). */
  windowBytes?: number;
  stats: Map<string, StageStats>;
  /** Channels carrying a stage's output to each of its consumers. */
  outputs(stageId: string): Channel[];
  /** The channel feeding input `index` of a node. */
  input(nodeId: string, index: number): Channel;
}

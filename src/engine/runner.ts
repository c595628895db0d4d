// Runs a plan: one coroutine per node, bounded channels between them, and sinks committed
// together only when every node has finished; on failure everything stops and nothing is left.
import { setMaxListeners } from 'node:events';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { InputStamp } from '../cache/input-hashes.ts';
import type { Logger } from '../observe/logger.ts';
import { emptyStats, type StageStats } from '../provenance/stage-stats.ts';
import type { OutputRecord } from '../workflow/stage.ts';
import { Channel } from './channel.ts';
import { countCached } from './counts.ts';
import type { TaskRecord } from './partition-cache.ts';
import { channelId, type TaskDecisions } from './decide.ts';
import { segmentMembers, type Plan, type PlanNode } from './plan.ts';
import type { Privacy } from './privacy.ts';
import { Quarantine } from './quarantine.ts';
import type { RunContext } from './run-context.ts';
import { ReduceRunner } from './reduce-runner.ts';
import { SegmentRunner } from './segment-runner.ts';
import { SinkRunner } from './sink-runner.ts';
import type { Executor } from './task.ts';

export interface RunOptions {
  executor: Executor;
  /** What to compute, replay or skip, and the cache (see decide.ts). */
  tasks: TaskDecisions;
  outDir: string;
  /** Folder for spilled batches; removed at the end. */
  tempDir: string;
  /** Bytes of batches each edge may hold before its producer waits (default 16 MiB). */
  edgeBudgetBytes?: number;
  /** Bytes of task requests and results each segment may have in flight beyond one per worker (default 64 MiB). */
  windowBytes?: number;
  signal?: AbortSignal;
  log?: Logger;
  /** Input files as they were hashed: a partition whose file changed since is not kept. */
  inputStamps?: Map<string, InputStamp>;
  /** What quarantined rows pass through before they are written or cached. */
  privacy: Privacy;
}

export interface RunOutcome {
  outputs: OutputRecord[];
  stats: StageStats[];
}

export class Runner {
  readonly stats: Map<string, StageStats>;

  constructor(private readonly plan: Plan, private readonly options: RunOptions) {
    this.stats = new Map(plan.workflow.stages.map((s) => [s.id, emptyStats(s.id, s.spec.use, s.stage.kind)]));
  }

  async run(): Promise<RunOutcome> {
    const { plan, options } = this;
    await countUntouched(plan, options.tasks, this.stats);
    const abort = new AbortController();
    // Every task in flight listens on this signal: many at once is expected, not a leak.
    setMaxListeners(0, abort.signal);
    const onOuterAbort = () => abort.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onOuterAbort, { once: true });
    mkdirSync(options.tempDir, { recursive: true });
    const channels = this.channels();
    const ctx: RunContext = {
      plan,
      executor: options.executor,
      tasks: options.tasks,
      outDir: options.outDir,
      quarantine: new Quarantine(options.outDir, options.privacy),
      privacy: options.privacy,
      log: options.log,
      inputStamps: options.inputStamps,
      signal: abort.signal,
      windowBytes: options.windowBytes,
      stats: this.stats,
      outputs: (stageId) => plan.edges.filter((e) => e.from === stageId).map((e) => channels.get(channelId(e.to, e.input))!),
      input: (nodeId, index) => channels.get(channelId(nodeId, index))!,
    };
    // Sinks in plan order, so outputs are listed the same way every run.
    const runners = plan.nodes.map((node) => runnerFor(node, ctx));
    const sinks = runners.filter((r) => r instanceof SinkRunner);
    let failure: unknown;
    const fail = (error: unknown) => {
      if (failure !== undefined) return;
      failure = error;
      abort.abort(error);
      for (const c of channels.values()) c.fail(error);
    };
    await Promise.all(runners.map((r) => r.run().catch(fail)));
    options.signal?.removeEventListener('abort', onOuterAbort);
    try {
      if (failure !== undefined) {
        await Promise.all(sinks.map((s) => s.abort().catch(() => undefined)));
        await ctx.quarantine.abort().catch(() => undefined);
        throw failure;
      }
      const outputs: OutputRecord[] = [];
      for (const sink of sinks) outputs.push(...(await sink.commit()));
      outputs.push(...(await ctx.quarantine.commit()));
      return { outputs, stats: [...this.stats.values()] };
    } finally {
      // On a read-only folder this fails, and must not hide why the run failed: the next run's claim removes it.
      try {
        rmSync(options.tempDir, { recursive: true, force: true });
      } catch { /* left for the next run */ }
    }
  }

  /** A bounded channel per edge; edges that could deadlock spill to disk instead of waiting. */
  private channels(): Map<string, Channel> {
    const { plan, options } = this;
    const channels = new Map<string, Channel>();
    const budgetBytes = options.edgeBudgetBytes ?? 16 << 20;
    for (const [i, e] of plan.edges.entries()) {
      const spillFile = e.spill ? join(options.tempDir, `edge-${i}.arrows`) : undefined;
      const id = channelId(e.to, e.input);
      channels.set(id, new Channel({ budgetBytes, spillFile, wants: options.tasks.wants.get(id) }));
    }
    return channels;
  }
}

function runnerFor(node: PlanNode, ctx: RunContext): SegmentRunner | ReduceRunner | SinkRunner {
  if (node.kind === 'segment') return new SegmentRunner(node, ctx);
  return node.kind === 'reduce' ? new ReduceRunner(node, ctx) : new SinkRunner(node, ctx);
}

/**
 * Tasks the run will do, per stage, for progress; and the partitions it need not touch because what
 * they lead to is cached: those count as cached, with the rows recorded when they were computed.
 */
async function countUntouched(plan: Plan, tasks: TaskDecisions, stats: Map<string, StageStats>): Promise<void> {
  for (const node of plan.nodes) {
    if (node.kind === 'sink') continue;
    const decisions = tasks.nodes.get(node.id)!;
    const members = node.kind === 'segment' ? segmentMembers(node) : [node.id];
    for (const id of members) {
      const st = stats.get(id)!;
      st.tasksTotal = decisions.length;
      const keys = tasks.keys.stages.get(id)!.keys;
      for (const [j, d] of decisions.entries()) {
        if (d !== 'skip' || !tasks.store) continue;
        const record = tasks.records.get(keys[j]) ?? (await tasks.store.readRecord<TaskRecord>('task', keys[j]));
        if (record) countCached(st, record);
      }
    }
  }
}

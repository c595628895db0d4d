// Runs a plan: one coroutine per node, bounded channels between them, and sinks committed
// together only when every node has finished; on failure everything stops and nothing is left.
import { setMaxListeners } from 'node:events';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { OutputRecord, SinkWriter } from '../workflow/stage.ts';
import { Channel } from './channel.ts';
import type { Plan, PlanNode } from './plan.ts';
import { runReduce } from './run-reduce.ts';
import { runSegment } from './run-segment.ts';
import { runSink } from './run-sink.ts';
import { emptyStats, type StageStats } from './stats.ts';
import type { Executor } from './task.ts';
import { channelId, segmentMembers, type TaskDecisions } from '../cache/decide.ts';
import { countCached } from './run-segment.ts';
import { Quarantine } from './quarantine.ts';
import type { Logger } from '../observe/logger.ts';

export interface RunOptions {
  executor: Executor;
  /** What to compute, replay or skip, and the cache (see cache/decide.ts). */
  tasks: TaskDecisions;
  outDir: string;
  /** Folder for spilled batches; removed at the end. */
  tempDir: string;
  /** Bytes of batches each edge may hold before its producer waits (default 16 MiB). */
  edgeBudgetBytes?: number;
  signal?: AbortSignal;
  log?: Logger;
}

export interface RunContext {
  plan: Plan;
  executor: Executor;
  tasks: TaskDecisions;
  outDir: string;
  quarantine: Quarantine;
  log?: Logger;
  signal: AbortSignal;
  stats: Map<string, StageStats>;
  /** Channels carrying a stage's output to each of its consumers. */
  outputs(stageId: string): Channel[];
  /** The channel feeding input `index` of a node. */
  input(nodeId: string, index: number): Channel;
  openedSinks: SinkWriter[];
}

export interface RunOutcome {
  outputs: OutputRecord[];
  stats: StageStats[];
}

export class Runner {
  readonly stats: Map<string, StageStats>;

  constructor(private readonly plan: Plan, private readonly options: RunOptions) {
    this.stats = new Map(plan.workflow.stages.map((s) => [s.id, emptyStats(s.id, s.spec.use, s.stage.kind)]));
    countUntouched(plan, options.tasks, this.stats);
  }

  async run(): Promise<RunOutcome> {
    const { plan, options } = this;
    const abort = new AbortController();
    // Every task in flight listens on this signal: many at once is expected, not a leak.
    setMaxListeners(0, abort.signal);
    const onOuterAbort = () => abort.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onOuterAbort, { once: true });
    mkdirSync(options.tempDir, { recursive: true });

    const channels = new Map<string, Channel>();
    const budgetBytes = options.edgeBudgetBytes ?? 16 << 20;
    for (const [i, e] of plan.edges.entries()) {
      const spillFile = e.spill ? join(options.tempDir, `edge-${i}.arrows`) : undefined;
      const id = channelId(e.to, e.input);
      channels.set(id, new Channel({ budgetBytes, spillFile, wants: options.tasks.wants.get(id) }));
    }
    const ctx: RunContext = {
      plan,
      executor: options.executor,
      tasks: options.tasks,
      outDir: options.outDir,
      quarantine: new Quarantine(options.outDir),
      log: options.log,
      signal: abort.signal,
      stats: this.stats,
      outputs: (stageId) => plan.edges.filter((e) => e.from === stageId).map((e) => channels.get(`${e.to}#${e.input}`)!),
      input: (nodeId, index) => channels.get(`${nodeId}#${index}`)!,
      openedSinks: [],
    };

    const runNode = (node: PlanNode): Promise<SinkWriter | void> =>
      node.kind === 'segment' ? runSegment(node, ctx) : node.kind === 'reduce' ? runReduce(node, ctx) : runSink(node, ctx);
    let failure: unknown;
    const fail = (error: unknown) => {
      if (failure !== undefined) return;
      failure = error;
      abort.abort(error);
      for (const c of channels.values()) c.fail(error);
    };
    // Sink writers come back in plan order, so outputs are listed the same way every run.
    const finished = await Promise.all(plan.nodes.map((node) => runNode(node).catch((error) => fail(error))));
    options.signal?.removeEventListener('abort', onOuterAbort);
    try {
      if (failure !== undefined) {
        await Promise.all(ctx.openedSinks.map((w) => w.abort().catch(() => undefined)));
        await ctx.quarantine.abort().catch(() => undefined);
        throw failure;
      }
      const outputs: OutputRecord[] = [];
      for (const writer of finished) if (writer) outputs.push(...(await writer.commit()));
      outputs.push(...(await ctx.quarantine.commit()));
      return { outputs, stats: [...this.stats.values()] };
    } finally {
      rmSync(options.tempDir, { recursive: true, force: true });
    }
  }
}

/**
 * Tasks the run will do, per stage, for progress; and the partitions it need not touch because what
 * they lead to is cached: those count as cached, with the rows recorded when they were computed.
 */
function countUntouched(plan: Plan, tasks: TaskDecisions, stats: Map<string, StageStats>) {
  for (const node of plan.nodes) {
    if (node.kind === 'sink') continue;
    const decisions = tasks.nodes.get(node.id)!;
    const members = node.kind === 'segment' ? segmentMembers(node) : [node.id];
    for (const id of members) {
      const st = stats.get(id)!;
      st.tasksTotal = decisions.length;
      const keys = tasks.keys.stages.get(id)!.keys;
      decisions.forEach((d, j) => {
        const record = d === 'skip' ? tasks.store?.record(keys[j]) : undefined;
        if (record) countCached(st, record);
      });
    }
  }
}

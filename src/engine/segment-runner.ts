// Drives one segment from the main thread: turns its input (source chunks, or batches from an
// upstream stage) into task requests, keeps a bounded window of them in flight on the executor,
// and passes their outputs on in partition order, whatever order the workers finish in. Partitions
// the cache holds are replayed in their place; those computed are cached as they pass.
import type { RecordBatch } from 'apache-arrow';
import { batchBytes, decodeBatches, encodeBatches, encodeSchema } from '../arrow/ipc.ts';
import { changeSince } from '../cache/input-hashes.ts';
import type { StageStats } from '../provenance/stage-stats.ts';
import { StageRunError } from '../workflow/errors.ts';
import type { PartitionInfo } from '../workflow/stage.ts';
import { durationSeconds } from '../workflow/types.ts';
import type { ResolvedStage } from '../workflow/validate.ts';
import { runAttempts, type AttemptPolicy } from './attempt.ts';
import { putAll, type Channel, type Item } from './channel.ts';
import { addCounts, countCached, zeroCounts } from './counts.ts';
import type { Decision } from './decide.ts';
import { rejectedKey } from './keys.ts';
import { PartitionCache, type OpenPartition } from './partition-cache.ts';
import { segmentMembers, type SegmentNode } from './plan.ts';
import type { RunContext } from './run-context.ts';
import type { SegmentSpec, StageCounts, StageRef, TaskResult, TaskUnit } from './task.ts';
import { Wakeup } from './wakeup.ts';

/**
 * Grouping: many small chunks go to a worker in one request, so per-request costs are shared; but
 * never so few requests that workers would sit idle (a source is split into at least `spread`
 * requests per worker, when its size is known).
 */
const groupMaxUnits = 256;
const groupMaxBytes = 2 << 20;
const spread = 8;
/** Batches sent in from upstream are packed into units of about this size. */
const unitTargetBytes = 1 << 20;
const unknownChunkBytes = 64 << 10;
/** Bytes of requests and their results in flight, beyond one request per worker (windowFull). */
export const defaultWindowBytes = 64 << 20;

const resultBytes = (r: TaskResult) => {
  let bytes = 0;
  for (const o of r.outputs) bytes += o?.byteLength ?? 0;
  for (const x of r.rejected) bytes += x.bytes?.byteLength ?? 0;
  return bytes;
};

/** What the emitter does, in order: open or close a partition, pass on a unit's output, or replay a cached partition. */
type Step = { kind: 'start' | 'end' | 'replay'; partition: PartitionInfo } | { kind: 'unit'; index: number };

interface Group {
  steps: Step[];
  units: TaskUnit[];
  bytes: number;
  result?: Promise<TaskResult>;
}

const newGroup = (): Group => ({ steps: [], units: [], bytes: 0 });

const toRef = (s: ResolvedStage, ctx: RunContext): StageRef => ({
  id: s.id, use: s.spec.use, version: s.stage.version, params: s.params, onError: s.spec.onError ?? 'fail',
  ...(ctx.privacy?.protects(s.id) ? { withholdValues: true } : {}),
});

export class SegmentRunner {
  private readonly spec: SegmentSpec;
  private readonly policy: AttemptPolicy;
  private readonly members: string[];
  private readonly stats: StageStats[];
  private readonly exitChannels: Channel[][];
  private readonly everyOutput: Channel[];
  private readonly decisions: Decision[];
  /** The root's partition names, by index. */
  private readonly names: string[];
  private readonly cache: PartitionCache;
  private readonly limits: { maxUnits: number; maxBytes: number };
  private readonly window: Group[] = [];
  /** Bytes of requests in flight past which no more are sent, beyond one per worker (see windowFull). */
  private readonly windowBytes: number;
  /** The emitter had to wait for room in an output channel: in the group it is on, and in the last one it passed on (the consumer is slower than the workers). */
  private outputWaited = false;
  private outputBlocked = false;
  /** Most bytes the window held at once, for tests. */
  peakWindowBytes = 0;
  private group = newGroup();
  private readonly producerWakeup: Wakeup;
  private readonly emitterWakeup: Wakeup;
  private producing = true;
  /** Cached partitions before this one have been put in the queue for replay. */
  private replayed = 0;
  /** The partition the emitter is passing on: its cache entries and what each member counted. */
  private current?: { partition: number; entry?: OpenPartition; counts: StageCounts[] };

  constructor(private readonly node: SegmentNode, private readonly ctx: RunContext) {
    const { root } = node;
    this.spec = {
      key: node.key,
      baseDir: ctx.plan.workflow.source.baseDir,
      catalog: ctx.plan.catalog,
      source: root.kind === 'source' ? toRef(root.stage, ctx) : undefined,
      inputSchema: encodeSchema(root.kind === 'source' ? root.stage.schema : root.schema),
      maps: node.maps.map((m) => ({ ...toRef(m.stage, ctx), parent: m.parent })),
      exits: node.exits.map((id) => node.maps.findIndex((m) => m.stage.id === id)),
    };
    this.members = segmentMembers(node);
    this.policy = attemptPolicy(this.members, ctx);
    this.stats = this.members.map((id) => ctx.stats.get(id)!);
    this.exitChannels = node.exits.map((id) => ctx.outputs(id));
    this.everyOutput = this.exitChannels.flat();
    this.decisions = ctx.tasks.nodes.get(node.id)!;
    this.names = ctx.tasks.keys.stages.get(root.kind === 'source' ? root.stage.id : root.from)!.names;
    this.cache = new PartitionCache(ctx.tasks.store);
    this.limits = groupLimits(root.kind === 'source' ? root.stage.partitions ?? [] : undefined, ctx.executor.concurrency);
    this.windowBytes = ctx.windowBytes ?? defaultWindowBytes;
    this.producerWakeup = new Wakeup(ctx.signal);
    this.emitterWakeup = new Wakeup(ctx.signal);
  }

  async run(): Promise<void> {
    try {
      await Promise.all([this.produce(), this.emit()]);
      await this.cache.settle();
    } finally {
      await this.cache.abort();
    }
  }

  private key(stageId: string, partition: number): string {
    return this.ctx.tasks.keys.stages.get(stageId)!.keys[partition];
  }

  private abandoned(): boolean {
    return this.everyOutput.length > 0 && this.everyOutput.every((c) => c.isAbandoned);
  }

  // Producing: units of work, grouped into requests, with the partitions' markers between them.

  private async produce(): Promise<void> {
    try {
      const { root } = this.node;
      if (root.kind === 'source') await this.produceFromSource(root.stage);
      else await this.produceFromInput(this.ctx.input(this.node.id, 0));
      if (!this.abandoned()) this.replayUpTo(this.decisions.length);
      await this.flush();
    } finally {
      this.producing = false;
      this.emitterWakeup.wake();
    }
  }

  private async produceFromSource(source: ResolvedStage): Promise<void> {
    for (const [index, partition] of (source.partitions ?? []).entries()) {
      if (this.abandoned()) break;
      if (this.decisions[index] !== 'compute') continue;
      this.replayUpTo(index);
      const info: PartitionInfo = { index, key: partition.key };
      this.addMarker('start', info);
      try {
        const chunks = partition.chunks();
        // Most sources list their chunks synchronously: no promise per chunk for those.
        if (Symbol.iterator in chunks) {
          for (const chunk of chunks) {
            const full = this.addUnit({ partition: info, chunk }, chunk.bytes ?? unknownChunkBytes);
            if (full) await full;
          }
        } else {
          for await (const chunk of chunks) await this.addUnit({ partition: info, chunk }, chunk.bytes ?? unknownChunkBytes);
        }
      } catch (error) {
        // Listing chunks reads the file on this thread (Arrow streams, large CSVs): name the stage.
        throw error instanceof StageRunError ? error : new StageRunError(source.id, error, { file: partition.key });
      }
      this.addMarker('end', info);
    }
  }

  /** Packs batches from upstream into units; sends what it has whenever the input runs dry. */
  private async produceFromInput(input: Channel): Promise<void> {
    let pending: RecordBatch[] = [];
    let pendingBytes = 0;
    let partition: PartitionInfo | undefined;
    const pack = async () => {
      if (pending.length === 0 || !partition) return;
      const bytes = encodeBatches(pending[0].schema, pending);
      pending = [];
      pendingBytes = 0;
      await this.addUnit({ partition, input: bytes }, bytes.byteLength);
    };
    while (!this.abandoned()) {
      let item = input.poll();
      if (!item) {
        await pack(); // nothing more is ready: let the workers start on what we have
        await this.flush();
        item = await input.next();
        if (!item) break;
      }
      if (item.kind === 'batch') {
        pending.push(item.batch);
        pendingBytes += batchBytes(item.batch);
        if (pendingBytes >= unitTargetBytes) await pack();
      } else if (item.kind === 'start') {
        partition = item.partition;
        this.replayUpTo(partition.index);
        this.addMarker('start', partition);
      } else {
        await pack();
        this.addMarker('end', item.partition);
      }
    }
    input.abandon();
  }

  /** Returns a promise only when the request is full and sent. */
  private addUnit(unit: TaskUnit, bytes: number): Promise<void> | undefined {
    const g = this.group;
    g.steps.push({ kind: 'unit', index: g.units.length });
    g.units.push(unit);
    g.bytes += bytes;
    return g.units.length >= this.limits.maxUnits || g.bytes >= this.limits.maxBytes ? this.flush() : undefined;
  }

  private addMarker(kind: 'start' | 'end' | 'replay', partition: PartitionInfo): void {
    this.group.steps.push({ kind, partition });
  }

  /** Queues the cached partitions before partition `before` for replay, in order. */
  private replayUpTo(before: number): void {
    for (; this.replayed < before; this.replayed++) {
      if (this.decisions[this.replayed] === 'replay') this.addMarker('replay', { index: this.replayed, key: this.names[this.replayed] });
    }
  }

  /** Sends the request being built; waits while too many are in flight. */
  private async flush(): Promise<void> {
    const g = this.group;
    if (g.steps.length === 0) return;
    this.group = newGroup();
    if (g.units.length > 0) {
      g.result = runAttempts(this.ctx.executor, { segment: this.spec, units: g.units }, this.policy, this.ctx.signal, this.ctx.log);
      // Once done, the request holds what it returned until the emitter takes it.
      g.result.then((r) => {
        g.bytes = resultBytes(r);
      }, () => undefined); // the emitter observes failures, in order
      g.units = []; // their buffers now belong to the worker
    }
    this.window.push(g);
    this.emitterWakeup.wake();
    while (this.windowFull()) await this.producerWakeup.wait();
  }

  /**
   * Too much is in flight: more requests than keep every worker busy with one queued behind it, or,
   * beyond one per worker (beyond one, while the emitter waits on a slower consumer), more bytes
   * than `windowBytes`: the inputs sent, or once a request is done, what it returned (results wait
   * here for the emitter).
   */
  private windowFull(): boolean {
    const { concurrency } = this.ctx.executor;
    let requests = 0;
    let bytes = 0;
    for (const w of this.window) {
      if (!w.result) continue;
      requests++;
      bytes += w.bytes;
    }
    this.peakWindowBytes = Math.max(this.peakWindowBytes, bytes);
    // Waiting on a slower consumer, one request computing behind the one being passed on is enough.
    // (The last group's waits tell: at the moment the emitter moves on, it is not waiting.)
    const floor = this.outputBlocked ? 1 : concurrency;
    return requests > concurrency * 2 + 1 || (requests > floor && bytes > this.windowBytes);
  }

  // Emitting: each request's steps in order, once its result is in.

  private async emit(): Promise<void> {
    while (this.producing || this.window.length > 0) {
      const g = this.window[0];
      if (!g) {
        await this.emitterWakeup.wait();
        continue;
      }
      await this.emitGroup(g);
      this.window.shift();
      this.producerWakeup.wake();
    }
    for (const c of this.everyOutput) c.close();
  }

  private async emitGroup(g: Group): Promise<void> {
    const result = await g.result;
    const decoded = result?.outputs.map((bytes) => (bytes ? decodeBatches(bytes).batches : []));
    const offsets = this.node.exits.map(() => 0);
    this.outputWaited = false;
    for (const step of g.steps) {
      // Thousands of tiny tasks: no promise per step unless a step has to wait.
      const waiting = step.kind === 'unit' ? this.emitUnit(step.index, result!, decoded!, offsets)
        : step.kind === 'replay' ? this.replay(step.partition)
        : step.kind === 'start' ? this.startPartition(step.partition)
        : this.endPartition(step.partition);
      if (waiting) await waiting;
    }
    this.outputBlocked = this.outputWaited;
  }

  private startPartition(partition: PartitionInfo): Promise<void> | undefined {
    this.current = { partition: partition.index, entry: this.cache.start(), counts: this.members.map(zeroCounts) };
    return putAll(this.everyOutput, { kind: 'start', partition });
  }

  private endPartition(partition: PartitionInfo): Promise<void> | undefined {
    const { entry, counts } = this.current!;
    this.current = undefined;
    this.checkInputUnchanged(partition);
    this.cache.commit(entry, this.members.map((id, i) => ({ key: this.key(id, partition.index), record: counts[i] })));
    for (const s of this.stats) s.tasks++;
    return putAll(this.everyOutput, { kind: 'end', partition });
  }

  /**
   * A source partition's file written to while the run read it: its rows may mix two versions,
   * and its cache key holds the old hash, so it fails here, before anything is kept.
   */
  private checkInputUnchanged(partition: PartitionInfo): void {
    const { root } = this.node;
    if (root.kind !== 'source') return;
    const file = root.stage.partitions?.[partition.index]?.file;
    const stamp = file && this.ctx.inputStamps?.get(file);
    const change = stamp && changeSince(file, stamp);
    if (change) throw new StageRunError(root.stage.id, `${change} during the run; nothing read from it was kept: run again`, { file: partition.key });
  }

  /** One unit's counts, rejected rows and output batches; `offsets` tracks each exit's batches used so far. */
  private async emitUnit(index: number, result: TaskResult, decoded: RecordBatch[][], offsets: number[]): Promise<void> {
    const { partition, entry, counts } = this.current!;
    result.counts[index].forEach((c, i) => {
      addCounts(this.stats[i], c);
      addCounts(counts[i], c);
    });
    for (const r of result.rejected) {
      if (r.unit !== index || !r.bytes) continue;
      const id = this.members[r.stage];
      for (const batch of decodeBatches(r.bytes).batches) {
        const kept = await this.ctx.quarantine.admit(id, batch);
        await entry?.write(rejectedKey(this.key(id, partition)), kept.schema, kept);
      }
    }
    for (const [exit, channels] of this.exitChannels.entries()) {
      const id = this.node.exits[exit];
      const schema = this.ctx.plan.workflow.byId.get(id)!.schema;
      const n = result.batchCounts[exit][index];
      for (const whole of decoded[exit].slice(offsets[exit], offsets[exit] + n)) {
        for (const batch of piecesOf(whole, channels)) {
          const writing = entry?.write(this.key(id, partition), schema, batch);
          if (writing) await writing;
          const full = putAll(channels, { kind: 'batch', batch });
          if (full) {
            this.outputWaited = true;
            await full;
          }
        }
      }
      offsets[exit] += n;
    }
  }

  /** Passes on a cached partition: each wanted exit's stored batches, and the stages' recorded counts. */
  private async replay(partition: PartitionInfo): Promise<void> {
    await send(this.everyOutput, { kind: 'start', partition });
    for (const [exit, channels] of this.exitChannels.entries()) {
      if (!channels.some((c) => c.wants(partition.index))) continue;
      for await (const batch of this.cache.replay(this.key(this.node.exits[exit], partition.index))) await send(channels, { kind: 'batch', batch });
    }
    await send(this.everyOutput, { kind: 'end', partition });
    for (const [i, id] of this.members.entries()) {
      const key = this.key(id, partition.index);
      const record = this.ctx.tasks.records.get(key) ?? (await this.cache.record(key));
      countCached(this.stats[i], record);
      if (record?.quarantined && this.ctx.plan.workflow.byId.get(id)!.spec.onError === 'quarantine') {
        for await (const batch of this.cache.replay(rejectedKey(key))) await this.ctx.quarantine.write(id, batch);
      }
    }
  }
}

/**
 * A batch as the channels take it: whole, or, when it is more than half the smallest channel's
 * budget, in slices of about that size (views, not copies). A channel takes a batch bigger than its
 * budget only when empty, so big batches whole would keep a whole result waiting in the channel
 * besides the one its reader is on; in slices, the channel holds what its budget says.
 */
function* piecesOf(batch: RecordBatch, channels: Channel[]): Generator<RecordBatch> {
  let budget = Infinity;
  for (const c of channels) budget = Math.min(budget, c.budgetBytes);
  const bytes = batchBytes(batch);
  if (!(bytes > budget / 2) || batch.numRows < 2) {
    yield batch;
    return;
  }
  const rows = Math.max(1, Math.floor(batch.numRows / Math.ceil(bytes / (budget / 2))));
  for (let start = 0; start < batch.numRows; start += rows) yield batch.slice(start, start + rows);
}

/** Puts an item into every channel, waiting only if one of them is full. */
async function send(channels: Channel[], item: Item): Promise<void> {
  const waiting = putAll(channels, item);
  if (waiting) await waiting;
}

/** Retries and timeout for the segment's requests: the most retries and the shortest timeout its stages ask for. */
function attemptPolicy(members: string[], ctx: RunContext): AttemptPolicy {
  const specs = members.map((id) => ctx.plan.workflow.byId.get(id)!.spec);
  const timeouts = specs.flatMap((m) => (m.timeout === undefined ? [] : [durationSeconds(m.timeout)]));
  return {
    retries: Math.max(0, ...specs.map((m) => m.retries ?? 0)),
    timeoutSeconds: timeouts.length ? Math.min(...timeouts) : undefined,
    stages: members,
  };
}

/** How big a request may grow, from what a source says of its size up front. */
function groupLimits(partitions: { bytes?: number }[] | undefined, workers: number) {
  if (!partitions) return { maxUnits: groupMaxUnits, maxBytes: groupMaxBytes };
  const requests = workers * spread;
  const bytes = partitions.reduce((sum, p) => sum + (p.bytes ?? unknownChunkBytes), 0);
  return {
    maxUnits: Math.max(1, Math.min(groupMaxUnits, Math.floor(partitions.length / requests))),
    maxBytes: Math.max(64 << 10, Math.min(groupMaxBytes, bytes / requests)),
  };
}

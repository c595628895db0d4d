// Drives one segment from the main thread: turns its input (source chunks, or batches from an
// upstream stage) into task requests, keeps a bounded window of them in flight on the executor,
// and passes their outputs on in partition order, whatever order the workers finish in.
import type { RecordBatch } from 'apache-arrow';
import { batchBytes, decodeBatches, encodeBatches, encodeSchema } from '../arrow/ipc.ts';
import type { PartitionInfo } from '../workflow/stage.ts';
import { putAll, type Channel } from './channel.ts';
import type { SegmentNode } from './plan.ts';
import type { RunContext } from './runner.ts';
import type { SegmentSpec, StageCounts, StageRef, TaskResult, TaskUnit } from './task.ts';
import { runAttempts, type AttemptPolicy } from './attempt.ts';
import { rejectedKey } from '../cache/keys.ts';
import { durationSeconds } from '../workflow/types.ts';
import type { ResolvedStage } from '../workflow/validate.ts';
import { segmentMembers } from '../cache/decide.ts';
import type { TaskRecord } from '../cache/store.ts';
import { SegmentCache } from './segment-cache.ts';
import type { StageStats } from './stats.ts';
import { Wakeup } from './wakeup.ts';
import { StageRunError } from '../workflow/errors.ts';

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

/** What the emitter does, in order: open or close a partition, pass on a unit's output, or replay a cached partition. */
type Step = { kind: 'start' | 'end'; partition: PartitionInfo } | { kind: 'replay'; partition: PartitionInfo } | { kind: 'unit'; index: number };

interface Group {
  steps: Step[];
  units: TaskUnit[];
  bytes: number;
  result?: Promise<TaskResult>;
}

const toRef = (s: ResolvedStage): StageRef => ({
  id: s.id, use: s.spec.use, version: s.stage.version, params: s.params, onError: s.spec.onError ?? 'fail',
});

export async function runSegment(node: SegmentNode, ctx: RunContext): Promise<void> {
  const { root } = node;
  const spec: SegmentSpec = {
    key: node.key,
    baseDir: ctx.plan.workflow.source.baseDir,
    catalog: ctx.plan.catalog,
    source: root.kind === 'source' ? toRef(root.stage) : undefined,
    inputSchema: encodeSchema(root.kind === 'source' ? root.stage.schema : root.schema),
    maps: node.maps.map((m) => ({ ...toRef(m.stage), parent: m.parent })),
    exits: node.exits.map((id) => node.maps.findIndex((m) => m.stage.id === id)),
  };
  const members = segmentMembers(node);
  const stats = members.map((id) => ctx.stats.get(id)!);
  const memberSpecs = members.map((id) => ctx.plan.workflow.byId.get(id)!.spec);
  const timeouts = memberSpecs.flatMap((m) => (m.timeout === undefined ? [] : [durationSeconds(m.timeout)]));
  const policy: AttemptPolicy = {
    retries: Math.max(0, ...memberSpecs.map((m) => m.retries ?? 0)),
    timeoutSeconds: timeouts.length ? Math.min(...timeouts) : undefined,
    stages: members,
  };
  const exitChannels = node.exits.map((id) => ctx.outputs(id));
  const decisions = ctx.tasks.nodes.get(node.id)!;
  const cache = new SegmentCache(node, ctx);
  const everyOutput = exitChannels.flat();
  const abandoned = () => everyOutput.length > 0 && everyOutput.every((c) => c.isAbandoned);

  const { maxUnits, maxBytes } = groupLimits(root.kind === 'source' ? root.stage.partitions ?? [] : undefined, ctx.executor.concurrency);
  const window: Group[] = [];
  const maxInFlight = ctx.executor.concurrency * 2 + 1;
  const producerWakeup = new Wakeup(ctx.signal);
  const emitterWakeup = new Wakeup(ctx.signal);
  let producing = true;
  let group: Group = { steps: [], units: [], bytes: 0 };

  const flush = async () => {
    if (group.steps.length === 0) return;
    const g = group;
    group = { steps: [], units: [], bytes: 0 };
    if (g.units.length > 0) {
      g.result = runAttempts(ctx.executor, { segment: spec, units: g.units }, policy, ctx.signal, ctx.log);
      g.result.catch(() => undefined); // the emitter observes it, in order
      g.units = []; // their buffers now belong to the worker
    }
    window.push(g);
    emitterWakeup.wake();
    while (window.filter((w) => w.result).length > maxInFlight) await producerWakeup.wait();
  };
  const addUnit = (unit: TaskUnit, bytes: number): Promise<void> | undefined => {
    group.steps.push({ kind: 'unit', index: group.units.length });
    group.units.push(unit);
    group.bytes += bytes;
    return group.units.length >= maxUnits || group.bytes >= maxBytes ? flush() : undefined;
  };
  const addMarker = (kind: 'start' | 'end' | 'replay', partition: PartitionInfo) => group.steps.push({ kind, partition } as Step);
  const names = ctx.tasks.keys.stages.get(root.kind === 'source' ? root.stage.id : root.from)!.names;
  /** Replays cached partitions, in order, up to (not including) partition `before`. */
  let replayed = 0;
  const replayUpTo = (before: number) => {
    for (; replayed < before; replayed++) if (decisions[replayed] === 'replay') addMarker('replay', { index: replayed, key: names[replayed] });
  };

  const produceFromSource = async () => {
    if (root.kind !== 'source') return;
    for (const [index, partition] of (root.stage.partitions ?? []).entries()) {
      if (abandoned()) break;
      if (decisions[index] !== 'compute') continue;
      replayUpTo(index);
      const info: PartitionInfo = { index, key: partition.key };
      addMarker('start', info);
      try {
        const chunks = partition.chunks();
        // Most sources list their chunks synchronously: no promise per chunk for those.
        if (Symbol.iterator in chunks) {
          for (const chunk of chunks) {
            const full = addUnit({ partition: info, chunk }, chunk.bytes ?? unknownChunkBytes);
            if (full) await full;
          }
        } else {
          for await (const chunk of chunks) await addUnit({ partition: info, chunk }, chunk.bytes ?? unknownChunkBytes);
        }
      } catch (error) {
        // Listing chunks reads the file on this thread (Arrow streams, large CSVs): name the stage.
        throw error instanceof StageRunError ? error : new StageRunError(root.stage.id, error, { file: partition.key });
      }
      addMarker('end', info);
    }
  };

  /** Packs batches from upstream into units; sends what it has whenever the input runs dry. */
  const produceFromInput = async (input: Channel) => {
    let pending: RecordBatch[] = [];
    let pendingBytes = 0;
    let partition: PartitionInfo | undefined;
    const pack = async () => {
      if (pending.length === 0 || !partition) return;
      const bytes = encodeBatches(pending[0].schema, pending);
      pending = [];
      pendingBytes = 0;
      await addUnit({ partition, input: bytes }, bytes.byteLength);
    };
    while (!abandoned()) {
      let item = input.poll();
      if (!item) {
        await pack(); // nothing more is ready: let the workers start on what we have
        await flush();
        item = await input.next();
        if (!item) break;
      }
      if (item.kind === 'batch') {
        pending.push(item.batch);
        pendingBytes += batchBytes(item.batch);
        if (pendingBytes >= unitTargetBytes) await pack();
      } else if (item.kind === 'start') {
        partition = item.partition;
        replayUpTo(partition.index);
        addMarker('start', partition);
      } else {
        await pack();
        addMarker('end', item.partition);
      }
    }
    input.abandon();
  };

  const produce = async () => {
    try {
      if (root.kind === 'source') await produceFromSource();
      else await produceFromInput(ctx.input(node.id, 0));
      if (!abandoned()) replayUpTo(decisions.length);
      await flush();
    } finally {
      producing = false;
      emitterWakeup.wake();
    }
  };

  const emit = async () => {
    while (producing || window.length > 0) {
      const g = window[0];
      if (!g) {
        await emitterWakeup.wait();
        continue;
      }
      const result = await g.result;
      const decoded = result?.outputs.map((bytes) => (bytes ? decodeBatches(bytes).batches : []));
      const offsets = node.exits.map(() => 0);
      for (const step of g.steps) {
        if (step.kind === 'replay') {
          await replay(step.partition);
          continue;
        }
        if (step.kind !== 'unit') {
          const waiting = putAll(everyOutput, step);
          if (waiting) await waiting;
          if (step.kind === 'start') cache.start(step.partition);
          else {
            cache.end();
            for (const s of stats) s.tasks++;
          }
          continue;
        }
        const counts = result!.counts[step.index];
        counts.forEach((c, i) => addCounts(stats[i], c));
        cache.count(counts);
        for (const r of result!.rejected) {
          if (r.unit !== step.index || !r.bytes) continue;
          for (const batch of decodeBatches(r.bytes).batches) {
            await ctx.quarantine.write(members[r.stage], batch);
            await cache.reject(r.stage, batch);
          }
        }
        for (const [exit, channels] of exitChannels.entries()) {
          const n = result!.batchCounts[exit][step.index];
          const batches = decoded![exit];
          for (let b = offsets[exit]; b < offsets[exit] + n; b++) {
            const writing = cache.write(exit, batches[b]);
            if (writing) await writing;
            const waiting = putAll(channels, { kind: 'batch', batch: batches[b] });
            if (waiting) await waiting;
          }
          offsets[exit] += n;
        }
      }
      window.shift();
      producerWakeup.wake();
    }
    for (const c of everyOutput) c.close();
  };

  /** Passes on a cached partition: each wanted exit's stored batches, and the stages' recorded counts. */
  const replay = async (partition: PartitionInfo) => {
    let waiting = putAll(everyOutput, { kind: 'start', partition });
    if (waiting) await waiting;
    for (const [exit, channels] of exitChannels.entries()) {
      if (!channels.some((c) => c.wants(partition.index))) continue;
      for await (const batch of ctx.tasks.store!.readStream(cache.key(node.exits[exit], partition.index))) {
        waiting = putAll(channels, { kind: 'batch', batch });
        if (waiting) await waiting;
      }
    }
    waiting = putAll(everyOutput, { kind: 'end', partition });
    if (waiting) await waiting;
    for (const [i, id] of members.entries()) {
      const record = ctx.tasks.store!.record(cache.key(id, partition.index));
      countCached(stats[i], record);
      if (record?.quarantined && memberSpecs[i].onError === 'quarantine') {
        for await (const batch of ctx.tasks.store!.readStream(rejectedKey(cache.key(id, partition.index)))) await ctx.quarantine.write(id, batch);
      }
    }
  };

  try {
    await Promise.all([produce(), emit()]);
    await cache.settle();
  } finally {
    await cache.abort();
  }
}

function addCounts(stats: StageStats, c: StageCounts) {
  stats.rowsIn += c.rowsIn;
  stats.rowsOut += c.rowsOut;
  stats.quarantined += c.quarantined;
  stats.seconds += c.seconds;
}

/** A task served from the cache: it counts, with the rows it had when it was computed. */
export function countCached(stats: StageStats, record: TaskRecord | undefined) {
  stats.tasks++;
  stats.cached++;
  if (!record) return;
  stats.rowsIn += record.rowsIn;
  stats.rowsOut += record.rowsOut;
  stats.quarantined += record.quarantined;
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

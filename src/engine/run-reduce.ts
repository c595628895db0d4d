// Runs a reduce stage on the main thread: feeds it its inputs in order (build inputs first, then
// the others, each partition by partition) and passes on what it emits. Output partitions the
// cache holds are replayed in their place instead; those computed are stored as they go.
import { RecordBatch } from 'apache-arrow';
import type { StreamFileWriter } from '../cache/stream-file.ts';
import { StageRunError } from '../workflow/errors.ts';
import type { Emit, PartitionInfo, ReduceStage } from '../workflow/stage.ts';
import { putAll } from './channel.ts';
import { checkSchema } from './check-schema.ts';
import type { StageNode } from './plan.ts';
import { countCached } from './run-segment.ts';
import type { RunContext } from './runner.ts';

export async function runReduce(node: StageNode, ctx: RunContext): Promise<void> {
  const { stage: resolved } = node;
  const stage = resolved.stage as ReduceStage;
  const stats = ctx.stats.get(node.id)!;
  const outputs = ctx.outputs(node.id);
  const inputSchemas = resolved.inputs.map((id) => ctx.plan.workflow.byId.get(id)!.schema);
  const scope = stage.scope(resolved.params);
  const build = stage.buildInputs?.(resolved.params) ?? [];
  const order = [...build, ...inputSchemas.keys()].filter((v, i, all) => all.indexOf(v) === i);
  const decisions = ctx.tasks.nodes.get(node.id)!;
  const { keys, names, origins } = ctx.tasks.keys.stages.get(node.id)!;
  const store = ctx.tasks.store;
  /** Output partition index of (input, partition), for scope 'partition'. */
  const outputIndex = new Map(origins?.map((o, j) => [`${o.input}:${o.partition}`, j]));

  let open: PartitionInfo | undefined;
  let writer: StreamFileWriter | undefined;
  let counts = { rowsIn: 0, rowsOut: 0, seconds: 0 };
  const commits: Promise<void>[] = [];

  const openPartition = async (partition: PartitionInfo) => {
    open = partition;
    if (scope === 'partition') counts = { rowsIn: 0, rowsOut: 0, seconds: 0 }; // 'all' counts everything read
    const key = keys[partition.index];
    writer = store && !store.hasStream(key) ? store.openStream(key, resolved.schema) : undefined;
    await putAll(outputs, { kind: 'start', partition });
  };
  /** `complete` is false when reading stopped inside the partition: it is then not cached. */
  const closePartition = async (complete = true) => {
    const partition = open!;
    await putAll(outputs, { kind: 'end', partition });
    open = undefined;
    stats.tasks++;
    if (!complete) {
      await writer?.abort();
      writer = undefined;
    }
    if (!store || !complete) return;
    const done = writer?.finish();
    done?.catch(() => undefined); // observed below, after the records before it
    writer = undefined;
    const record = { ...counts, quarantined: 0 };
    const previous = commits.at(-1)?.catch(() => undefined); // one record at a time, in order
    const commit = (async () => {
      await previous;
      await done;
      await store.writeRecord(keys[partition.index], record);
    })();
    commit.catch(() => undefined);
    commits.push(commit);
  };
  let replayed = 0;
  /** Replays the cached output partitions before `before`, in order. */
  const replayUpTo = async (before: number) => {
    for (; replayed < before; replayed++) {
      if (decisions[replayed] !== 'replay') continue;
      const partition = { index: replayed, key: names[replayed] };
      await putAll(outputs, { kind: 'start', partition });
      for await (const batch of store!.readStream(keys[replayed])) await putAll(outputs, { kind: 'batch', batch });
      await putAll(outputs, { kind: 'end', partition });
      countCached(stats, store!.record(keys[replayed]));
    }
  };

  const timed = async (what: string, call: () => Emit, partition?: PartitionInfo): Promise<void> => {
    const started = performance.now();
    let emitted: Awaited<Emit>;
    try {
      emitted = await call();
    } catch (error) {
      throw new StageRunError(node.id, error, { partition: partition?.key });
    } finally {
      const seconds = (performance.now() - started) / 1000;
      stats.seconds += seconds;
      counts.seconds += seconds;
    }
    if (!emitted) return;
    for (const batch of emitted instanceof RecordBatch ? [emitted] : emitted) {
      if (!open) {
        if (scope === 'partition') throw new StageRunError(node.id, `emitted rows from ${what}, outside any partition`);
        await openPartition({ index: 0, key: node.id });
      }
      checkSchema(node.id, batch.schema, resolved.schema);
      stats.rowsOut += batch.numRows;
      counts.rowsOut += batch.numRows;
      if (batch.numRows > 0) {
        const writing = writer?.write(batch);
        if (writing) await writing;
        await putAll(outputs, { kind: 'batch', batch });
      }
    }
  };

  try {
    if (decisions.some((d) => d === 'compute')) {
      const reducer = stage.create(resolved.params, {
        inputSchemas, outputSchema: resolved.schema, baseDir: ctx.plan.workflow.source.baseDir,
        progress: (note) => {
          stats.note = note;
          ctx.log?.info({ event: 'progress', stage: node.id, note }, 'stage progress');
        },
      });
      inputs: for (const input of order) {
        const opensPartitions = scope === 'partition' && !build.includes(input);
        let reading: PartitionInfo = { index: 0, key: '' };
        const channel = ctx.input(node.id, input);
        for (let item = channel.poll() ?? (await channel.next()); item; item = channel.poll() ?? (await channel.next())) {
          if (item.kind === 'start') {
            reading = item.partition;
            if (opensPartitions) {
              const j = outputIndex.get(`${input}:${item.partition.index}`)!;
              await replayUpTo(j);
              replayed = j + 1;
              await openPartition({ index: j, key: item.partition.key });
            }
          } else if (item.kind === 'batch') {
            stats.rowsIn += item.batch.numRows;
            counts.rowsIn += item.batch.numRows;
            await timed('push', () => reducer.push(item.batch, { input, partition: reading }), reading);
            if (reducer.isDone?.()) {
              stats.stoppedEarly = true;
              break inputs; // stop reading: upstream stops when nobody reads
            }
          } else {
            await timed('endPartition', () => reducer.endPartition?.({ input, partition: item.partition }), item.partition);
            if (opensPartitions) await closePartition();
          }
        }
      }
      for (const input of order) ctx.input(node.id, input).abandon();
      if (open && scope === 'partition') await closePartition(false);
      await timed('end', () => reducer.end?.());
      if (scope === 'all') {
        if (!open) await openPartition({ index: 0, key: node.id });
        await closePartition();
      }
    }
    for (const input of order) ctx.input(node.id, input).abandon();
    await replayUpTo(decisions.length);
    for (const c of outputs) c.close();
    await Promise.all(commits);
  } finally {
    await writer?.abort();
    await Promise.allSettled(commits);
  }
}

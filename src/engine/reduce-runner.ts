// Runs a reduce stage on the main thread: feeds it its inputs in order (build inputs first, then
// the others, each partition by partition) and passes on what it emits. Output partitions the
// cache holds are replayed in their place instead; those computed are cached as they go.
import { RecordBatch, type Schema } from 'apache-arrow';
import type { StageStats } from '../provenance/stage-stats.ts';
import { StageRunError } from '../workflow/errors.ts';
import type { Emit, PartitionInfo, Reducer, ReduceStage } from '../workflow/stage.ts';
import type { ResolvedStage } from '../workflow/validate.ts';
import { putAll, type Channel } from './channel.ts';
import { checkSchema } from './check-schema.ts';
import { countCached } from './counts.ts';
import type { Decision } from './decide.ts';
import { PartitionCache, type OpenPartition } from './partition-cache.ts';
import type { StageNode } from './plan.ts';
import type { RunContext } from './run-context.ts';

export class ReduceRunner {
  private readonly resolved: ResolvedStage;
  private readonly stage: ReduceStage;
  private readonly stats: StageStats;
  private readonly outputs: Channel[];
  private readonly inputSchemas: Schema[];
  private readonly scope: 'partition' | 'all';
  private readonly build: number[];
  /** Inputs in the order they are read: build inputs first. */
  private readonly order: number[];
  private readonly decisions: Decision[];
  private readonly keys: string[];
  private readonly names: string[];
  /** Output partition index of (input, partition), for scope 'partition'. */
  private readonly outputIndex: Map<string, number>;
  private readonly cache: PartitionCache;
  /** The output partition being written, and its cache entry. */
  private open?: { partition: PartitionInfo; entry?: OpenPartition };
  private counts = { rowsIn: 0, rowsOut: 0, seconds: 0 };
  private replayed = 0;

  constructor(private readonly node: StageNode, private readonly ctx: RunContext) {
    this.resolved = node.stage;
    this.stage = node.stage.stage as ReduceStage;
    this.stats = ctx.stats.get(node.id)!;
    this.outputs = ctx.outputs(node.id);
    this.inputSchemas = this.resolved.inputs.map((id) => ctx.plan.workflow.byId.get(id)!.schema);
    this.scope = this.stage.scope(this.resolved.params);
    this.build = this.stage.buildInputs?.(this.resolved.params) ?? [];
    this.order = [...this.build, ...this.inputSchemas.keys()].filter((v, i, all) => all.indexOf(v) === i);
    this.decisions = ctx.tasks.nodes.get(node.id)!;
    const { keys, names, origins } = ctx.tasks.keys.stages.get(node.id)!;
    this.keys = keys;
    this.names = names;
    this.outputIndex = new Map(origins?.map((o, j) => [`${o.input}:${o.partition}`, j]));
    this.cache = new PartitionCache(ctx.tasks.store);
  }

  async run(): Promise<void> {
    try {
      if (this.decisions.includes('compute')) await this.compute();
      this.abandonInputs();
      await this.replayUpTo(this.decisions.length);
      for (const c of this.outputs) c.close();
      await this.cache.settle();
    } finally {
      await this.cache.abort();
    }
  }

  private abandonInputs(): void {
    for (const input of this.order) this.ctx.input(this.node.id, input).abandon();
  }

  private async compute(): Promise<void> {
    const reducer = this.stage.create(this.resolved.params, {
      inputSchemas: this.inputSchemas, outputSchema: this.resolved.schema, baseDir: this.ctx.plan.workflow.source.baseDir,
      progress: (note) => {
        this.stats.note = note;
        this.ctx.log?.info({ event: 'progress', stage: this.node.id, note }, 'stage progress');
      },
    });
    for (const input of this.order) if (await this.read(reducer, input)) break;
    this.abandonInputs();
    if (this.open && this.scope === 'partition') await this.closePartition(false);
    await this.call('end', () => reducer.end?.());
    if (this.scope === 'all') {
      if (!this.open) await this.openPartition({ index: 0, key: this.node.id });
      await this.closePartition();
    }
  }

  /** Feeds input `input` to the reducer; true if the reducer is done and reading stops. */
  private async read(reducer: Reducer, input: number): Promise<boolean> {
    const opensPartitions = this.scope === 'partition' && !this.build.includes(input);
    let reading: PartitionInfo = { index: 0, key: '' };
    const channel = this.ctx.input(this.node.id, input);
    for (let item = channel.poll() ?? (await channel.next()); item; item = channel.poll() ?? (await channel.next())) {
      if (item.kind === 'start') {
        reading = item.partition;
        if (opensPartitions) {
          const j = this.outputIndex.get(`${input}:${item.partition.index}`)!;
          await this.replayUpTo(j);
          this.replayed = j + 1;
          await this.openPartition({ index: j, key: item.partition.key });
        }
      } else if (item.kind === 'batch') {
        this.stats.rowsIn += item.batch.numRows;
        this.counts.rowsIn += item.batch.numRows;
        const { batch } = item;
        await this.call('push', () => reducer.push(batch, { input, partition: reading }), reading);
        if (reducer.isDone?.()) {
          this.stats.stoppedEarly = true;
          return true; // upstream stops when nobody reads
        }
      } else {
        const { partition } = item;
        await this.call('endPartition', () => reducer.endPartition?.({ input, partition }), partition);
        if (opensPartitions) await this.closePartition();
      }
    }
    return false;
  }

  private async openPartition(partition: PartitionInfo): Promise<void> {
    if (this.scope === 'partition') this.counts = { rowsIn: 0, rowsOut: 0, seconds: 0 }; // 'all' counts everything read
    this.open = { partition, entry: this.cache.start() };
    await putAll(this.outputs, { kind: 'start', partition });
  }

  /** `complete` is false when reading stopped inside the partition: it is then not cached. */
  private async closePartition(complete = true): Promise<void> {
    const { partition, entry } = this.open!;
    this.open = undefined;
    await putAll(this.outputs, { kind: 'end', partition });
    this.stats.tasks++;
    if (complete) this.cache.commit(entry, [{ key: this.keys[partition.index], record: { ...this.counts, quarantined: 0 } }]);
    else await this.cache.drop(entry);
  }

  /** Replays the cached output partitions before `before`, in order. */
  private async replayUpTo(before: number): Promise<void> {
    for (; this.replayed < before; this.replayed++) {
      if (this.decisions[this.replayed] !== 'replay') continue;
      const key = this.keys[this.replayed];
      const partition = { index: this.replayed, key: this.names[this.replayed] };
      await putAll(this.outputs, { kind: 'start', partition });
      for await (const batch of this.cache.replay(key)) await putAll(this.outputs, { kind: 'batch', batch });
      await putAll(this.outputs, { kind: 'end', partition });
      countCached(this.stats, this.ctx.tasks.records.get(key) ?? (await this.cache.record(key)));
    }
  }

  /** Calls the reducer, timing it, and passes on what it emits. */
  private async call(what: string, call: () => Emit, partition?: PartitionInfo): Promise<void> {
    const started = performance.now();
    let emitted: Awaited<Emit>;
    try {
      emitted = await call();
    } catch (error) {
      throw new StageRunError(this.node.id, error, { partition: partition?.key });
    } finally {
      const seconds = (performance.now() - started) / 1000;
      this.stats.seconds += seconds;
      this.counts.seconds += seconds;
    }
    if (emitted) for (const batch of emitted instanceof RecordBatch ? [emitted] : emitted) await this.emit(what, batch);
  }

  private async emit(what: string, batch: RecordBatch): Promise<void> {
    if (!this.open) {
      if (this.scope === 'partition') throw new StageRunError(this.node.id, `emitted rows from ${what}, outside any partition`);
      await this.openPartition({ index: 0, key: this.node.id });
    }
    checkSchema(this.node.id, batch.schema, this.resolved.schema);
    this.stats.rowsOut += batch.numRows;
    this.counts.rowsOut += batch.numRows;
    if (batch.numRows === 0) return;
    const writing = this.open!.entry?.write(this.keys[this.open!.partition.index], this.resolved.schema, batch);
    if (writing) await writing;
    await putAll(this.outputs, { kind: 'batch', batch });
  }
}

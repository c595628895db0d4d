// Runs a reduce stage on the main thread: feeds it its inputs in order (build inputs first, then
// the others, each partition by partition) and passes on what it emits.
import { RecordBatch } from 'apache-arrow';
import { StageRunError } from '../workflow/errors.ts';
import type { Emit, PartitionInfo, ReduceStage } from '../workflow/stage.ts';
import { putAll } from './channel.ts';
import { checkSchema } from './check-schema.ts';
import type { StageNode } from './plan.ts';
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
  let open: PartitionInfo | undefined;
  let opened = 0;

  const timed = async (what: string, call: () => Emit, partition?: PartitionInfo): Promise<void> => {
    const started = performance.now();
    let emitted: Awaited<Emit>;
    try {
      emitted = await call();
    } catch (error) {
      throw new StageRunError(node.id, error, { partition: partition?.key });
    } finally {
      stats.seconds += (performance.now() - started) / 1000;
    }
    if (!emitted) return;
    for (const batch of emitted instanceof RecordBatch ? [emitted] : emitted) {
      if (!open) {
        if (scope === 'partition') throw new StageRunError(node.id, `emitted rows from ${what}, outside any partition`);
        open = { index: 0, key: node.id };
        opened++;
        await putAll(outputs, { kind: 'start', partition: open });
      }
      checkSchema(node.id, batch.schema, resolved.schema);
      stats.rowsOut += batch.numRows;
      if (batch.numRows > 0) await putAll(outputs, { kind: 'batch', batch });
    }
  };

  const reducer = stage.create(resolved.params, {
    inputSchemas, outputSchema: resolved.schema, baseDir: ctx.plan.workflow.source.baseDir,
  });
  inputs: for (const input of order) {
    const opensPartitions = scope === 'partition' && !build.includes(input);
    let reading: PartitionInfo = { index: 0, key: '' };
    const channel = ctx.input(node.id, input);
    for (let item = channel.poll() ?? (await channel.next()); item; item = channel.poll() ?? (await channel.next())) {
      if (item.kind === 'start') {
        reading = item.partition;
        if (opensPartitions) {
          open = { index: opened++, key: item.partition.key };
          await putAll(outputs, { kind: 'start', partition: open });
        }
      } else if (item.kind === 'batch') {
        stats.rowsIn += item.batch.numRows;
        await timed('push', () => reducer.push(item.batch, { input, partition: reading }), reading);
        if (reducer.isDone?.()) break inputs; // stop reading: upstream stops when nobody reads
      } else {
        await timed('endPartition', () => reducer.endPartition?.({ input, partition: item.partition }), item.partition);
        if (opensPartitions) {
          await putAll(outputs, { kind: 'end', partition: open! });
          open = undefined;
          stats.tasks++;
        }
      }
    }
  }
  for (const input of order) ctx.input(node.id, input).abandon();
  if (open && scope === 'partition') {
    await putAll(outputs, { kind: 'end', partition: open });
    open = undefined;
    stats.tasks++;
  }
  await timed('end', () => reducer.end?.());
  if (scope === 'all') {
    if (!open) {
      open = { index: 0, key: node.id };
      await putAll(outputs, { kind: 'start', partition: open });
    }
    await putAll(outputs, { kind: 'end', partition: open });
    stats.tasks = 1;
  }
  for (const c of outputs) c.close();
}

// Runs a sink stage on the main thread: writes its input, partition by partition, under temporary
// names. The runner commits every sink together once the whole run has succeeded.
import { StageRunError } from '../workflow/errors.ts';
import type { PartitionInfo, SinkStage, SinkWriter } from '../workflow/stage.ts';
import type { StageNode } from './plan.ts';
import type { RunContext } from './runner.ts';

export async function runSink(node: StageNode, ctx: RunContext): Promise<SinkWriter> {
  const { stage: resolved } = node;
  const stage = resolved.stage as SinkStage;
  const stats = ctx.stats.get(node.id)!;
  const writer = await stage.open(resolved.params, { schema: resolved.schema, outDir: ctx.outDir, stageId: node.id });
  ctx.openedSinks.push(writer);
  let partition: PartitionInfo | undefined;
  const input = ctx.input(node.id, 0);
  for (let item = input.poll() ?? (await input.next()); item; item = input.poll() ?? (await input.next())) {
    const started = performance.now();
    try {
      if (item.kind === 'start') {
        partition = item.partition;
        await writer.startPartition(partition);
      } else if (item.kind === 'batch') {
        await writer.write(item.batch);
        stats.rowsIn += item.batch.numRows;
        stats.rowsOut += item.batch.numRows;
      } else {
        await writer.endPartition(item.partition);
        stats.tasks++;
      }
    } catch (error) {
      throw new StageRunError(node.id, error, { partition: partition?.key });
    } finally {
      stats.seconds += (performance.now() - started) / 1000;
    }
  }
  return writer;
}

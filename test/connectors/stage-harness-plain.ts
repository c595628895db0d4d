// For benchmarks: reads a source's every chunk as the engine would, summing a `data` tensor
// column batch by batch without holding the batches (test/connectors/stage-harness.ts keeps them).
import type { SourceStage } from '../../src/workflow/stage.ts';
import { tensorValues } from '../../src/arrow/tensor.ts';

export async function readSource(stage: SourceStage, params: unknown): Promise<number> {
  const parsed = stage.params.parse(params);
  const { schema, partitions } = await stage.discover(parsed, { baseDir: '.' });
  let sum = 0;
  for (const [index, partition] of partitions.entries()) {
    for await (const chunk of partition.chunks()) {
      for await (const batch of stage.read(chunk, parsed, { schema, partition: { index, key: partition.key } })) {
        for (const v of tensorValues(batch, 'data')) if (Number.isFinite(v)) sum += v;
      }
    }
  }
  return sum;
}

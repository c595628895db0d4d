// Runs radar stages as the engine does (schema first, then a per-worker function per batch),
// without the engine, on CPIs from source.radar-sim.
import type { RecordBatch, Schema } from 'apache-arrow';
import { radarSimSource } from '../../../src/stages/radar/radar-sim.ts';
import type { MapStage } from '../../../src/workflow/stage.ts';

export type Step = [MapStage, Record<string, unknown>];

/** The batch of each simulated CPI (one row per channel), and their schema. */
export async function simulatedCpis(scenario: Record<string, unknown>, cpis: number, seed: number) {
  const params = radarSimSource.params.parse({ ...scenario, cpis, seed });
  const { schema, partitions } = await radarSimSource.discover(params, { baseDir: '.' });
  const batches: RecordBatch[] = [];
  for (const [index, partition] of partitions.entries()) {
    for await (const chunk of partition.chunks()) {
      for await (const batch of radarSimSource.read(chunk, params, { schema, partition: { index, key: partition.key } })) batches.push(batch);
    }
  }
  return { schema, batches };
}

/** Pushes batches through map stages in order. */
export async function runSteps(schema: Schema, batches: RecordBatch[], steps: Step[]): Promise<RecordBatch[]> {
  let current = batches;
  let inputSchema = schema;
  for (const [stage, raw] of steps) {
    const params = stage.params.parse(raw);
    const outputSchema = stage.outputSchema({ params, inputs: [inputSchema], baseDir: '.' });
    const run = await stage.create(params, { inputSchema, outputSchema, baseDir: '.' });
    const next: RecordBatch[] = [];
    for (const [index, batch] of current.entries()) {
      const out = await run(batch, { index, key: `cpi${index}` });
      if (out) next.push(out);
    }
    current = next;
    inputSchema = outputSchema;
  }
  return current;
}

/** Column `name` of every batch, concatenated. */
export const column = (batches: RecordBatch[], name: string): number[] =>
  batches.flatMap((b) => [...(b.getChild(name)?.toArray() ?? [])].map(Number));

// For stages that need every row of their scope before they can emit any (a split by shares,
// scaling fitted on a subset, a model fit): a reducer that holds the batches and hands them over
// as one batch, at each partition's end for scope 'partition', or at the end for 'all'.
import type { RecordBatch, Schema } from 'apache-arrow';
import { concatBatches } from './concat.ts';
import type { Emit, Reducer } from '../workflow/stage.ts';

export function holdRows(schema: Schema, scope: 'all' | 'partition', finish: (all: RecordBatch) => Emit): Reducer {
  let batches: RecordBatch[] = [];
  const release = () => {
    const all = concatBatches(schema, batches);
    batches = [];
    return finish(all);
  };
  return {
    push(batch) {
      batches.push(batch);
    },
    ...(scope === 'partition' ? { endPartition: release } : { end: release }),
  };
}

// Building a RecordBatch from column data. Arrow JS's constructor re-checks column lengths and
// makes a fresh Schema (copying metadata maps) for every batch; on the hot path, where the columns
// are known to line up, that is most of the cost of a small batch.
import { RecordBatch, Struct, makeData, type Data, type Schema } from 'apache-arrow';

/** Batches built here carry no metadata of their own; one empty map serves them all. */
const noMetadata = new Map<string, string>();

export function makeBatch(schema: Schema, children: Data[], length: number): RecordBatch {
  const data = makeData({ type: new Struct(schema.fields), length, children, nullCount: 0 });
  if (children.some((c) => c.length !== length)) return new RecordBatch(schema, data);
  const batch = Object.create(RecordBatch.prototype) as RecordBatch & { _metadata: Map<string, string> };
  Object.assign(batch, { schema, data, _metadata: noMetadata });
  return batch;
}

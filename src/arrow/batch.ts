// Building a RecordBatch from column data. Arrow JS's constructor re-checks column lengths and
// makes a fresh Schema (copying metadata maps) for every batch, and makeData dispatches through
// a visitor; on the hot path, where the columns are known to line up, that is most of the cost of
// a small batch.
import { Data, RecordBatch, Struct, type Schema } from 'apache-arrow';

/** Batches built here carry no metadata of their own; one empty map serves them all. */
const noMetadata = new Map<string, string>();
const structTypes = new WeakMap<Schema, Struct>();

export function makeBatch(schema: Schema, children: Data[], length: number): RecordBatch {
  let type = structTypes.get(schema);
  if (!type) structTypes.set(schema, (type = new Struct(schema.fields)));
  const data = new Data(type, 0, length, 0, [undefined, undefined, undefined] as never, children);
  if (children.some((c) => c.length !== length)) return new RecordBatch(schema, data);
  const batch = Object.create(RecordBatch.prototype) as RecordBatch & { _metadata: Map<string, string> };
  Object.assign(batch, { schema, data, _metadata: noMetadata });
  return batch;
}

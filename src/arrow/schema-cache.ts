// Memoises work per schema. Arrow JS gives every new RecordBatch a new Schema object even when its
// fields are the very same objects, so a cache keyed by the Schema would never hit; this keys by
// the field objects (and metadata) themselves.
import type { Field, Schema } from 'apache-arrow';

export class SchemaCache<T> {
  private readonly entries = new WeakMap<Field, { schema: Schema; value: T }[]>();
  private empty?: T;

  get(schema: Schema, make: (schema: Schema) => T): T {
    const first = schema.fields[0];
    if (!first) return (this.empty ??= make(schema));
    let list = this.entries.get(first);
    if (!list) this.entries.set(first, (list = []));
    const hit = list.find((e) => e.schema.metadata === schema.metadata && e.schema.fields.length === schema.fields.length
      && e.schema.fields.every((f, i) => f === schema.fields[i]));
    if (hit) return hit.value;
    const value = make(schema);
    if (list.length > 16) list.shift();
    list.push({ schema, value });
    return value;
  }
}

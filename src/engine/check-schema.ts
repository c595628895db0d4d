// A stage must produce the schema it declared (validation relied on it); checked on the first batch
// of each schema object, and the mismatch named precisely.
import type { Schema } from 'apache-arrow';
import { SchemaCache } from '../arrow/schema-cache.ts';
import { typeName } from '../arrow/types.ts';
import { StageRunError } from '../workflow/errors.ts';

const descriptions = new SchemaCache<string>();
const describe = (s: Schema) => descriptions.get(s, () => s.fields.map((f) => `${f.name}: ${typeName(f.type)}`).join(', '));

export function checkSchema(stage: string, actual: Schema, declared: Schema): void {
  if (actual === declared) return;
  if (describe(actual) !== describe(declared)) {
    throw new StageRunError(stage, `produced columns (${describe(actual)}) but declared (${describe(declared)})`);
  }
}

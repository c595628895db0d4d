// Column lookups for stages working out their output schema: a missing column or a wrong type
// becomes the error that validation turns into a sentence naming both stages.
import type { DataType, Field, Schema } from 'apache-arrow';
import { typeName } from './types.ts';
import { ColumnTypeError, MissingColumnError } from '../workflow/errors.ts';

/** The field `name` of input `input`; throws MissingColumnError if absent. */
export function requireColumn(schema: Schema, name: string, input = 0): Field {
  const field = schema.fields.find((f) => f.name === name);
  if (!field) throw new MissingColumnError(name, schema.fields.map((f) => f.name), input);
  return field;
}

/** Like requireColumn, and the type must pass `accepts`; `expected` describes what it accepts. */
export function requireColumnOf(schema: Schema, name: string, accepts: (type: DataType) => boolean, expected: string, input = 0): Field {
  const field = requireColumn(schema, name, input);
  if (!accepts(field.type)) throw new ColumnTypeError(name, expected, typeName(field.type), input);
  return field;
}

// Arrow type names as workflow files write them (`int32`, `timestamp[ms, UTC]`, `list<float64>`),
// and back: the one vocabulary used by params, validation messages and `quiver inspect`.
import {
  Binary, Bool, DataType, DateDay, DateMillisecond, Dictionary, Field, FixedSizeList, Float16, Float32, Float64,
  Int16, Int32, Int64, Int8, LargeUtf8, List, Null, Schema, Struct, Timestamp, TimeUnit, Type, Uint16, Uint32,
  Uint64, Uint8, Utf8,
} from 'apache-arrow';

const simple: Record<string, () => DataType> = {
  null: () => new Null(),
  bool: () => new Bool(), boolean: () => new Bool(),
  int8: () => new Int8(), int16: () => new Int16(), int32: () => new Int32(), int64: () => new Int64(),
  uint8: () => new Uint8(), uint16: () => new Uint16(), uint32: () => new Uint32(), uint64: () => new Uint64(),
  float16: () => new Float16(), float32: () => new Float32(), float64: () => new Float64(),
  float: () => new Float32(), double: () => new Float64(),
  utf8: () => new Utf8(), string: () => new Utf8(), large_utf8: () => new LargeUtf8(),
  binary: () => new Binary(),
  date32: () => new DateDay(), 'date32[day]': () => new DateDay(), date64: () => new DateMillisecond(),
};

const units: Record<string, TimeUnit> = { s: TimeUnit.SECOND, ms: TimeUnit.MILLISECOND, us: TimeUnit.MICROSECOND, ns: TimeUnit.NANOSECOND };
const unitNames = ['s', 'ms', 'us', 'ns'];

/** The names `parseType` accepts, for error messages. */
export const typeNames = ['bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'float32', 'float64',
  'utf8', 'binary', 'date32', 'timestamp[ms, UTC]', 'list<T>', 'fixed_size_list<T, N>'];

/** Parses a type name; throws an Error whose message names the bad type. */
export function parseType(name: string): DataType {
  const text = name.trim();
  const make = simple[text.toLowerCase()];
  if (make) return make();
  const ts = /^timestamp\s*\[\s*(s|ms|us|ns)\s*(?:,\s*([^\]]+?)\s*)?\]$/i.exec(text);
  if (ts) return new Timestamp(units[ts[1].toLowerCase()], ts[2] ?? null);
  if (/^timestamp$/i.test(text)) return new Timestamp(TimeUnit.MILLISECOND, 'UTC');
  const list = /^list\s*<(.+)>$/i.exec(text);
  if (list) return new List(new Field('item', parseType(list[1]), true));
  const fixed = /^fixed_size_list\s*<(.+),\s*(\d+)\s*>$/i.exec(text);
  if (fixed) return new FixedSizeList(Number(fixed[2]), new Field('item', parseType(fixed[1]), true));
  throw new Error(`unknown type '${name}' (known: ${typeNames.join(', ')})`);
}

/** The name of a type, in the syntax `parseType` reads. */
export function typeName(type: DataType): string {
  switch (type.typeId) {
    case Type.Null: return 'null';
    case Type.Bool: return 'bool';
    case Type.Int: {
      const t = type as Int32;
      return `${t.isSigned ? 'int' : 'uint'}${t.bitWidth}`;
    }
    case Type.Float: return ['float16', 'float32', 'float64'][(type as Float32).precision];
    case Type.Utf8: return 'utf8';
    case Type.LargeUtf8: return 'large_utf8';
    case Type.Binary: return 'binary';
    case Type.Date: return (type as DateDay).unit === 0 ? 'date32' : 'date64';
    case Type.Timestamp: {
      const t = type as Timestamp;
      return `timestamp[${unitNames[t.unit]}${t.timezone ? `, ${t.timezone}` : ''}]`;
    }
    case Type.List: return `list<${typeName((type as List).children[0].type)}>`;
    case Type.FixedSizeList: {
      const t = type as FixedSizeList;
      return `fixed_size_list<${typeName(t.children[0].type)}, ${t.listSize}>`;
    }
    case Type.Struct: return `struct<${(type as Struct).children.map((f) => `${f.name}: ${typeName(f.type)}`).join(', ')}>`;
    case Type.Dictionary: return `dictionary<${typeName((type as Dictionary).dictionary)}>`;
    default: return String(type).toLowerCase();
  }
}

/** Whether two types are the same for data exchange (ignores child field names and nullability). */
export function sameType(a: DataType, b: DataType): boolean {
  return typeName(a) === typeName(b);
}

export const isNumeric = (t: DataType) => t.typeId === Type.Int || t.typeId === Type.Float;
export const isInteger = (t: DataType) => t.typeId === Type.Int;
export const isFloat = (t: DataType) => t.typeId === Type.Float;

/** `name: type, ...` for messages and `quiver inspect`. */
export function describeSchema(schema: Schema): string {
  return schema.fields.map((f) => `${f.name}: ${typeName(f.type)}`).join(', ');
}

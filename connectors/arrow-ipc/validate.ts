// Checks a decoded record batch against its own lengths, as Arrow C++'s ValidateFull does for the
// layout: every buffer long enough for its column, offsets that never decrease and stay inside the
// data they index, children as long as their parent needs, dictionary indices inside their
// dictionary. Neither quiver's fast decoder nor Arrow JS checks this, and a damaged body that gets
// past them fails later, far from the file: a RangeError in a sink, a wrong string in a join.
// Fixed-width columns cost nothing here; offsets and dictionary indices one pass each.
import { Type, type Data, type DataType, type Field, type RecordBatch } from 'apache-arrow';
import { strideForType } from 'apache-arrow/type';
import type { BatchHeader } from '../../src/arrow/ipc-batch.ts';
import { InputError } from '../../src/workflow/errors.ts';

/** Dictionaries already checked (batches of a file share them). */
const checkedDictionaries = new WeakSet<object>();

class Invalid extends Error {}

function offsetsEnd(data: Data, limit: number): void {
  const { offset, length } = data;
  const offsets = data.valueOffsets as Int32Array | BigInt64Array | undefined;
  if (!offsets || offsets.length < offset + length + 1) throw new Invalid(`${offsets?.length ?? 0} offsets for ${length} values`);
  if (offsets instanceof Int32Array) {
    let previous = offsets[offset];
    if (previous < 0) throw new Invalid(`a negative offset (${previous})`);
    for (let i = offset + 1; i <= offset + length; i++) {
      const next = offsets[i];
      if (next < previous) throw new Invalid(`offsets decrease at value ${i - offset - 1} (${previous}, then ${next})`);
      previous = next;
    }
    if (previous > limit) throw new Invalid(`offsets run to ${previous}, past the ${limit} values they index`);
    return;
  }
  let previous = offsets[offset];
  if (previous < 0n) throw new Invalid(`a negative offset (${previous})`);
  for (let i = offset + 1; i <= offset + length; i++) {
    const next = offsets[i];
    if (next < previous) throw new Invalid(`offsets decrease at value ${i - offset - 1} (${previous}, then ${next})`);
    previous = next;
  }
  if (previous > BigInt(limit)) throw new Invalid(`offsets run to ${previous}, past the ${limit} values they index`);
}

function checkIndices(data: Data, size: number): void {
  const { offset, length } = data;
  const values = data.values as ArrayLike<number | bigint>;
  const valid = data.nullCount > 0 ? data.nullBitmap : undefined;
  for (let i = offset; i < offset + length; i++) {
    const index = Number(values[i]);
    if (index >= 0 && index < size) continue;
    if (valid && !(valid[i >> 3] & (1 << (i & 7)))) continue; // a null's index means nothing
    throw new Invalid(`dictionary index ${index} at row ${i - offset}, but the dictionary has ${size} entries`);
  }
}

function checkData(data: Data, path: string): void {
  const { type, offset, length } = data;
  const end = offset + length;
  const where = (why: string) => new Invalid(`column '${path}': ${why}`);
  if (!(Number.isSafeInteger(length) && length >= 0 && offset >= 0)) throw where(`impossible length ${length}`);
  if (type.typeId === Type.Null) return;
  if (data.nullCount > 0 && (data.nullBitmap?.length ?? 0) * 8 < end) throw where(`${data.nullCount} nulls but a validity bitmap of ${data.nullBitmap?.length ?? 0} bytes for ${length} values`);
  try {
    switch (type.typeId) {
      case Type.Bool:
        if (data.values.length * 8 < end) throw new Invalid(`${data.values.length} bytes of values for ${length} booleans`);
        return;
      case Type.Int: case Type.Float: case Type.Date: case Type.Timestamp: case Type.Time: case Type.Duration:
      case Type.Interval: case Type.Decimal: case Type.FixedSizeBinary:
        if (data.values.length < end * data.stride) throw new Invalid(`${data.values.length} values for ${length} rows`);
        return;
      case Type.Utf8: case Type.Binary: case Type.LargeUtf8: case Type.LargeBinary:
        offsetsEnd(data, data.values.length);
        return;
      case Type.List: case Type.LargeList: case Type.Map:
        offsetsEnd(data, data.children[0].length);
        checkData(data.children[0], `${path}.${type.children[0].name}`);
        return;
      case Type.FixedSizeList: {
        const size = (type as unknown as { listSize: number }).listSize;
        if (data.children[0].length < end * size) throw new Invalid(`${data.children[0].length} child values for ${length} lists of ${size}`);
        checkData(data.children[0], `${path}.${type.children[0].name}`);
        return;
      }
      case Type.Struct:
        data.children.forEach((child, i) => {
          if (child.length < end) throw new Invalid(`field '${type.children[i].name}' has ${child.length} values for ${length} rows`);
          checkData(child, `${path}.${type.children[i].name}`);
        });
        return;
      case Type.Dictionary: {
        const dictionary = data.dictionary;
        if (!dictionary) throw new Invalid('no dictionary');
        if (data.values.length < end) throw new Invalid(`${data.values.length} indices for ${length} rows`);
        if (!checkedDictionaries.has(dictionary)) {
          for (const chunk of dictionary.data) checkData(chunk, `${path} (dictionary)`);
          checkedDictionaries.add(dictionary);
        }
        checkIndices(data, dictionary.length);
        return;
      }
      default:
        return; // unions, views: passed on as Arrow JS decoded them
    }
  } catch (error) {
    if (error instanceof Invalid && !error.message.startsWith('column ')) throw where(error.message);
    throw error;
  }
}

/** Throws an InputError naming the file when a batch's buffers do not hold what its lengths say. */
export function checkBatch(batch: RecordBatch, file: string, where: string): void {
  try {
    batch.schema.fields.forEach((field, i) => {
      const child = batch.data.children[i];
      if (!child || child.length < batch.numRows) throw new Invalid(`column '${field.name}' has ${child?.length ?? 0} values for ${batch.numRows} rows`);
      checkData(child, field.name);
    });
  } catch (error) {
    if (error instanceof Invalid) throw new InputError(file, `corrupt record batch ${where}: ${error.message}`);
    throw error;
  }
}

/**
 * For the fast decoder (src/arrow/ipc-batch.ts), which makes typed arrays of the lengths the field
 * nodes give, whatever the size of the buffer they start in: checks, in the order it reads them,
 * that there are as many buffers as the columns need and each is long enough, so that a damaged
 * length cannot make it read the bytes after a buffer as values.
 */
export function checkBatchLayout(fields: readonly Field[], header: BatchHeader, file: string): void {
  let node = 0;
  let buffer = 0;
  const fail = (why: string): never => {
    throw new InputError(file, `corrupt record batch header: ${why}`);
  };
  const need = (bytes: number, column: string) => {
    if (2 * buffer >= header.buffers.length) fail(`${header.buffers.length / 2} buffers, fewer than its columns need`);
    const length = header.buffers[2 * buffer + 1];
    if (length < bytes) fail(`buffer ${buffer} has ${length} bytes, column '${column}' needs ${bytes}`);
    buffer++;
  };
  const visit = (type: DataType, column: string) => {
    const length = header.nodes[2 * node];
    const nulls = header.nodes[2 * node + 1];
    node++;
    if (type.typeId === Type.Null) return;
    need(nulls > 0 ? Math.ceil(length / 8) : 0, column);
    const offsets = (width: number) => need(length > 0 ? (length + 1) * width : 0, column);
    switch (type.typeId) {
      case Type.Bool:
        need(Math.ceil(length / 8), column);
        return;
      case Type.Utf8: case Type.Binary:
        offsets(4);
        need(0, column); // the data: its size is checked against the last offset once decoded
        return;
      case Type.LargeUtf8: case Type.LargeBinary:
        offsets(8);
        need(0, column);
        return;
      case Type.List: case Type.Map:
        offsets(4);
        visit(type.children[0].type, `${column}.${type.children[0].name}`);
        return;
      case Type.LargeList:
        offsets(8);
        visit(type.children[0].type, `${column}.${type.children[0].name}`);
        return;
      case Type.FixedSizeList: case Type.Struct:
        for (const child of type.children) visit(child.type, `${column}.${child.name}`);
        return;
      default:
        need(length * rowBytes(type), column);
    }
  };
  for (const field of fields) visit(field.type, field.name);
  if (2 * buffer !== header.buffers.length) fail(`${header.buffers.length / 2} buffers where its columns need ${buffer}`);
}

/** Bytes per row of a fixed-width type (its schema checked by checkSchemaTypes). */
function rowBytes(type: DataType): number {
  return strideForType(type) * ((type as unknown as { ArrayType?: { BYTES_PER_ELEMENT: number } }).ArrayType?.BYTES_PER_ELEMENT ?? 1);
}

/**
 * Checks that every column type of a schema read from a file is one Arrow JS can lay out: a
 * damaged schema can hold, say, a float of precision 255, which Arrow JS accepts until the first
 * batch of it is decoded.
 */
export function checkSchemaTypes(fields: readonly Field[], file: string, path = ''): void {
  for (const field of fields) {
    const column = `${path}${field.name}`;
    const type = field.type as DataType;
    try {
      rowBytes(type);
      if (type.typeId === Type.Dictionary) {
        rowBytes((type as unknown as { indices: DataType }).indices);
        checkSchemaTypes([{ name: '(dictionary)', type: (type as unknown as { dictionary: DataType }).dictionary } as Field], file, `${column}.`);
      }
    } catch (error) {
      throw new InputError(file, `corrupt schema: column '${column}' has an impossible type (${error instanceof Error ? error.message : String(error)})`);
    }
    checkSchemaTypes(type.typeId === Type.Dictionary ? [] : type.children ?? [], file, `${column}.`);
  }
}

// What file sources share (csv, arrow, parquet): matching `path` to input files,
// checking that every file has the first file's columns, and handing batches out with the
// declared schema. Plain helpers, no Arrow IPC specifics.
import { stat, type FileHandle } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { Data, DataType, Field, RecordBatch, Schema, type Dictionary } from 'apache-arrow';
import { glob, isDynamicPattern } from 'tinyglobby';
import { makeBatch } from '../arrow/batch.ts';
import { typeName } from '../arrow/types.ts';
import { InputError } from '../workflow/errors.ts';
import { checkTaskMemory, MAX_READ_BYTES } from './limits.ts';
import { realPathOutside } from '../workflow/paths.ts';
import type { DiscoverContext } from '../workflow/stage.ts';
import type { S3ObjectRef } from './s3-object.ts';
import { isS3 } from './s3-url.ts';

export interface InputFile {
  /** Absolute path: what workers open. */
  path: string;
  /** The partition key and the name errors use: relative to the workflow folder. */
  key: string;
  bytes: number;
  /** For an S3 input (io/s3-inputs.ts), the object: then `path` and `key` are its s3:// URL. */
  object?: S3ObjectRef;
}

/**
 * The files `pattern` names (a path or a glob, relative to `baseDir`), ordered by path; none is an
 * error unless `noneIsEmpty`. With `readRoots`, a file whose real path lies outside them is refused.
 */
export async function matchFiles(pattern: string, { baseDir, readRoots }: DiscoverContext, noneIsEmpty = false): Promise<InputFile[]> {
  if (isS3(pattern)) throw new Error(`'${pattern}': this source reads local files; of S3 inputs, source.parquet and source.fits read them`);
  let paths: string[];
  if (isDynamicPattern(pattern)) {
    paths = (await glob([pattern], { cwd: baseDir, absolute: true, onlyFiles: true, expandDirectories: false })).map((p) => resolve(p));
    if (paths.length === 0 && !noneIsEmpty) throw new Error(`no file matches '${pattern}' in ${baseDir}`);
  } else {
    const path = isAbsolute(pattern) ? pattern : resolve(baseDir, pattern);
    const info = await stat(path).catch(() => undefined);
    if (!info && noneIsEmpty) return [];
    if (!info) throw new Error(`no file matches '${pattern}' in ${baseDir}`);
    if (info.isDirectory()) throw new Error(`'${pattern}' is a folder; give a file or a glob such as '${pattern.replace(/\/$/, '')}/*'`);
    paths = [path];
  }
  paths.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return Promise.all(paths.map(async (path) => {
    // Relative even outside the folder (`../data/x.csv`), so keys mean the same in every checkout.
    const rel = relative(baseDir, path);
    const key = rel && !isAbsolute(rel) ? rel : path;
    checkInsideRoots(path, key, readRoots);
    return { path, key, bytes: (await stat(path)).size };
  }));
}

/** Throws unless the file at `path` (named `key` in errors) may be read: checked before it is opened. */
export function checkInsideRoots(path: string, key: string, readRoots: string[] | undefined): void {
  const outside = readRoots && realPathOutside(path, key, readRoots);
  if (outside) throw new Error(outside);
}

/** Runs `fn` over `items`, at most `limit` at a time, keeping their order. */
export async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  }));
  return out;
}

/**
 * Reads exactly `length` bytes at `position`, or fails naming what is missing. Lengths come from
 * files: checked against the task's memory first, and read in pieces Node's int32 read takes.
 */
export async function readAt(handle: FileHandle, position: number, length: number, file: string, what: string): Promise<Uint8Array> {
  checkTaskMemory(file, what, length);
  const bytes = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(bytes, done, Math.min(length - done, MAX_READ_BYTES), position + done);
    if (bytesRead === 0) {
      throw new InputError(file, `truncated: ${what} needs bytes ${position}-${position + length} but the file ends at byte ${position + done}`);
    }
    done += bytesRead;
  }
  return bytes;
}

/** Same column type for exchange: the type name, and for dictionaries the index type as well. */
export function sameColumnType(a: DataType, b: DataType): boolean {
  if (typeName(a) !== typeName(b)) return false;
  if (DataType.isDictionary(a) && DataType.isDictionary(b) && typeName((a as Dictionary).indices) !== typeName((b as Dictionary).indices)) return false;
  const ac = a.children ?? [];
  const bc = b.children ?? [];
  return ac.length === bc.length && ac.every((f, i) => sameColumnType(f.type, bc[i].type));
}

/**
 * Checks that `next` (from `file`) has the columns of `first`; returns `first` with each field
 * made nullable where either schema has it nullable.
 */
export function mergeSchema(first: Schema, next: Schema, file: string, firstFile: string): Schema {
  const names = (s: Schema) => s.fields.map((f) => f.name);
  for (const field of first.fields) {
    const other = next.fields.find((f) => f.name === field.name);
    if (!other) {
      throw new InputError(file, `has no column '${field.name}', which ${firstFile} has (columns: ${names(next).join(', ')})`);
    }
    if (!sameColumnType(field.type, other.type)) {
      throw new InputError(file, `column '${field.name}' is ${typeName(other.type)}, but ${typeName(field.type)} in ${firstFile}`);
    }
  }
  const extra = next.fields.find((f) => !first.fields.some((g) => g.name === f.name));
  if (extra) throw new InputError(file, `has column '${extra.name}', which ${firstFile} does not have (columns: ${names(first).join(', ')})`);
  if (names(next).join('\0') !== names(first).join('\0')) {
    throw new InputError(file, `has the columns of ${firstFile} in another order (${names(next).join(', ')})`);
  }
  if (next.fields.every((f, i) => !f.nullable || first.fields[i].nullable)) return first;
  return new Schema(first.fields.map((f, i) => (f.nullable || !next.fields[i].nullable ? f : new Field(f.name, f.type, true, f.metadata))), first.metadata);
}

/** Gives a batch's data the declared types (same layout, maybe other dictionary ids or nullability). */
function retype(data: Data, type: DataType): Data {
  const children = type.children ?? [];
  const kids = data.children.map((child, i) => (children[i] ? retype(child, children[i].type) : child));
  if (data.type === type && kids.every((k, i) => k === data.children[i])) return data;
  return data.clone(type, data.offset, data.length, (data as unknown as { _nullCount: number })._nullCount, data as never, kids);
}

/** The batch with the declared schema: columns picked by name, in the declared order. */
export function conformBatch(batch: RecordBatch, schema: Schema): RecordBatch {
  if (batch.schema === schema) return batch;
  const fields = batch.schema.fields;
  // The usual case: the very same field objects (Arrow JS copies the Schema, not its fields).
  if (fields.length === schema.fields.length && fields.every((f, i) => f === schema.fields[i])) {
    return makeBatch(schema, batch.data.children as Data[], batch.numRows);
  }
  const children = schema.fields.map((field) => {
    const index = fields.findIndex((f) => f.name === field.name);
    if (index < 0) throw new Error(`column '${field.name}' is missing from a batch read`);
    return retype(batch.data.children[index], field.type);
  });
  // makeBatch keeps the declared schema object itself, so consumers can cache by identity.
  return makeBatch(schema, children, batch.numRows);
}

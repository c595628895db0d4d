// Bounds on what readers allocate and plan, whatever a file's header claims: a size declared by a
// file (a CPI, a record batch, a decompressed buffer or page, an image) is checked before anything
// of that size is allocated, so a hostile or damaged header ends in one InputError, not in an
// aborted process or a worker out of memory. Uncompressed data must fit in the file; compressed
// data must be plausible for its compressed size and fit the task's budget; inflating stops at the
// size expected.
import { resourceLimits } from 'node:worker_threads';
import { createGunzip, createInflateRaw } from 'node:zlib';
import { InputError } from '../workflow/errors.ts';

const GiB = 1024 ** 3;

/** Most bytes one fs read asks for: Node's read takes an int32 length, and 2 GiB or more aborts the process. */
export const MAX_READ_BYTES = GiB;

/** Largest `chunkBytes` a source takes: a worker holds a chunk in memory, and reads it at once. */
export const MAX_CHUNK_BYTES = GiB;

/** Most partitions one source may make: each becomes tasks and records, planned in memory up front. */
export const MAX_PARTITIONS = 1_000_000;

const MiB = 1024 * 1024;

/** Deflate's best ratio (a long run of one byte): no stream inflates to more than this many times its size. */
export const DEFLATE_MAX_RATIO = 1032;

/**
 * Bytes one task may allocate on a file's word: the worker thread's heap limit (`quiver run
 * --worker-memory`), else QUIVER_TASK_MEMORY_MB (which also bounds discovery on the main thread),
 * else 1 GiB. Decoded arrays live outside the heap, so the heap limit alone would not bound them.
 */
export function taskMemoryBytes(): number {
  const mb = resourceLimits.maxOldGenerationSizeMb ?? Number(process.env.QUIVER_TASK_MEMORY_MB);
  return mb > 0 ? mb * MiB : GiB;
}

export const howToRaise = 'give tasks more with quiver run --worker-memory MB or QUIVER_TASK_MEMORY_MB, if the file is sound';
const mib = (bytes: number) => `${Math.ceil(bytes / MiB)} MiB`;

/** Fails unless `bytes`, which `file` says `what` takes, fit in one task's memory. */
export function checkTaskMemory(file: string, what: string, bytes: number): void {
  const budget = taskMemoryBytes();
  if (!(bytes <= budget)) throw new InputError(file, `${what}: ${bytes} bytes, more than the ${budget} bytes one task may hold (${howToRaise})`);
}

/** An Error (the caller names the file) when decoding `what` needs more than the task's budget (`bytes`: what it would allocate). */
export function checkBudget(bytes: number, what: string, hint = howToRaise): void {
  const budget = taskMemoryBytes();
  if (!(bytes <= budget)) throw new Error(`${what} needs ${mib(bytes)} in memory, more than this task's budget of ${mib(budget)} (${hint})`);
}

/** Fails when a source would make more than MAX_PARTITIONS partitions; `change` says how to make fewer. */
export function checkPartitionCount(file: string, count: number, change: string): void {
  if (count > MAX_PARTITIONS) {
    throw new InputError(file, `makes ${count} partitions, more than the ${MAX_PARTITIONS} one source may have; ${change}`);
  }
}
/**
 * The first `limit` bytes that gzip or raw-deflate `bytes` inflate to (fewer where the stream is
 * shorter); it is never inflated much past `limit`. A damaged or cut stream is an Error saying so.
 */
export async function inflatePrefix(bytes: Uint8Array, limit: number, format: 'gzip' | 'raw'): Promise<Uint8Array> {
  const stream = format === 'gzip' ? createGunzip() : createInflateRaw();
  const out = new Uint8Array(limit);
  let size = 0;
  return new Promise((resolve, reject) => {
    const done = () => {
      stream.destroy();
      resolve(out.subarray(0, size));
    };
    stream.on('data', (chunk: Buffer) => {
      const take = Math.min(chunk.length, limit - size);
      out.set(chunk.subarray(0, take), size);
      size += take;
      if (size === limit) done();
    });
    stream.on('end', done);
    stream.on('error', (error) => reject(new Error(`the ${format === 'gzip' ? 'gzip' : 'deflate'} stream is damaged or cut short (${error.message})`)));
    if (limit === 0) done();
    else stream.end(bytes);
  });
}

// Limits a reader checks a file's declared sizes against before it allocates or inflates: sizes
// come from headers, which a damaged or hostile file can set to anything. Uncompressed data must
// fit in the file; compressed data must be plausible for its compressed size and fit this task's
// memory budget; inflating stops at the size expected.
import { resourceLimits } from 'node:worker_threads';
import { createGunzip, createInflateRaw } from 'node:zlib';

const MiB = 1024 * 1024;

/** Deflate's best ratio (a long run of one byte): no stream inflates to more than this many times its size. */
export const DEFLATE_MAX_RATIO = 1032;

/**
 * Bytes of decoded data one task may hold: the worker thread's heap limit (`quiver run
 * --worker-memory`), else 1 GiB. Decoded arrays live outside the heap, so the heap limit alone
 * would not bound them.
 */
export function taskMemoryBudget(): number {
  return (resourceLimits.maxOldGenerationSizeMb ?? 1024) * MiB;
}

const mib = (bytes: number) => `${Math.ceil(bytes / MiB)} MiB`;

/** An Error when decoding `what` needs more than the task's budget (`bytes`: what it would allocate). */
export function checkBudget(bytes: number, what: string, hint = 'give the task more with quiver run --worker-memory'): void {
  const budget = taskMemoryBudget();
  if (!(bytes <= budget)) throw new Error(`${what} needs ${mib(bytes)} in memory, more than this task's budget of ${mib(budget)} (${hint})`);
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

// Bounds on what readers allocate and plan, whatever a file's header claims: a size declared by a
// file (a CPI, a record batch, a decompressed buffer or page) is checked before anything of that
// size is allocated, so a hostile or damaged header ends in one InputError, not in an aborted
// process or a worker out of memory.
import { InputError } from '../workflow/errors.ts';

const GiB = 1024 ** 3;

/** Most bytes one fs read asks for: Node's read takes an int32 length, and 2 GiB or more aborts the process. */
export const MAX_READ_BYTES = GiB;

/** Largest `chunkBytes` a source takes: a worker holds a chunk in memory, and reads it at once. */
export const MAX_CHUNK_BYTES = GiB;

/** Most partitions one source may make: each becomes tasks and records, planned in memory up front. */
export const MAX_PARTITIONS = 1_000_000;

/** Bytes one task may allocate on a file's word: QUIVER_TASK_MEMORY_MB, or 1 GiB. */
export function taskMemoryBytes(): number {
  const mb = Number(process.env.QUIVER_TASK_MEMORY_MB);
  return mb > 0 ? mb * 1024 * 1024 : GiB;
}

/** Fails unless `bytes`, which `file` says `what` takes, fit in one task's memory. */
export function checkTaskMemory(file: string, what: string, bytes: number): void {
  const budget = taskMemoryBytes();
  if (!(bytes <= budget)) {
    throw new InputError(file, `${what}: ${bytes} bytes, more than the ${budget} bytes one task may hold `
      + '(set QUIVER_TASK_MEMORY_MB to allow more, if the file is sound)');
  }
}

/** Fails when a source would make more than MAX_PARTITIONS partitions; `change` says how to make fewer. */
export function checkPartitionCount(file: string, count: number, change: string): void {
  if (count > MAX_PARTITIONS) {
    throw new InputError(file, `makes ${count} partitions, more than the ${MAX_PARTITIONS} one source may have; ${change}`);
  }
}

// A small file (a record, a memo) written whole or not at all: under a temporary name, then
// renamed. When the disk is full, read-only or gone, the temporary file is removed and the error
// names the file, so one line says what could not be written where.
import { rename, rm, writeFile } from 'node:fs/promises';

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`; // the name a killed run's leftovers are cleaned by
  try {
    await writeFile(temp, data);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw new Error(`writing ${path}: ${(error as Error).message}`, { cause: error });
  }
}

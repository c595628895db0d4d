// `mkdir -p` that names the real cause: Node's recursive mkdir says ENOENT where a read-only file
// system (EROFS) stops it, which would send the user looking for a folder that is not missing.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export function makeFolder(path: string): void {
  try {
    mkdirSync(path, { recursive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(path) === path) throw error;
    makeFolder(dirname(path));
    mkdirSync(path); // not recursive: fails with EROFS or EACCES where that is the cause
  }
}

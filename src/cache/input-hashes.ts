// Content hashes of input files. Hashing a large archive is a full read, so each hash is kept
// beside the cache with the file's size, mtime and inode: an unchanged file is not read again.
import { statSync, type Stats } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256OfFile } from '../io/file-hash.ts';
import { writeFileAtomic } from '../io/atomic-file.ts';
import { mapLimited } from '../io/input-files.ts';
import { InputError } from '../workflow/errors.ts';
import { hashParts } from './hash.ts';

interface Remembered {
  path: string;
  size: number;
  mtimeMs: number;
  /**
   * Fix: the status change time too. Copies that keep modification times (cp -p, rsync -a, tar,
   * unzip) can replace a file with one of the same size and mtime; ctime cannot be set back, so
   * any write shows in it. (Records without it are not trusted.)
   */
  ctimeMs: number;
  ino: number;
  sha256: string;
}

/** What says a file is still the one that was hashed: any write changes one of these. */
export interface InputStamp {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

const stampOf = (info: Stats): InputStamp => ({ size: info.size, mtimeMs: info.mtimeMs, ctimeMs: info.ctimeMs, ino: info.ino });
const sameStamp = (a: InputStamp, b: InputStamp) => a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino;

/** How `path` differs from `stamp` (it changed or vanished since it was hashed), or undefined. */
export function changeSince(path: string, stamp: InputStamp): string | undefined {
  const info = statSync(path, { throwIfNoEntry: false });
  if (!info) return 'was removed';
  if (sameStamp(stampOf(info), stamp)) return undefined;
  return info.size !== stamp.size ? `changed size (${stamp.size} → ${info.size} bytes)` : info.ino !== stamp.ino ? 'was replaced' : 'was written to';
}

/**
 * sha256 of every file, keyed by path. With `memoDir`, hashes are remembered there and reused
 * while a file's size, modification time and inode are unchanged. `stamps` receives each file's
 * stamp as hashed, so that the run can tell a file changed under it (changeSince).
 */
export async function hashInputFiles(files: string[], memoDir?: string, stamps?: Map<string, InputStamp>): Promise<Map<string, string>> {
  if (memoDir) await mkdir(memoDir, { recursive: true });
  const unique = [...new Set(files)];
  const hashes = await mapLimited(unique, 4, async (path) => {
    const info = await stat(path);
    const memo = memoDir ? join(memoDir, `${hashParts(path).slice(0, 32)}.json`) : undefined;
    if (memo) {
      const known = await readFile(memo, 'utf8').then((t) => JSON.parse(t) as Remembered, () => undefined);
      if (known && known.path === path && sameStamp(known, stampOf(info))) {
        stamps?.set(path, stampOf(info));
        return known.sha256;
      }
    }
    const sha256 = await sha256OfFile(path);
    // Written to while it was read: the hash may be of neither version.
    const changed = changeSince(path, stampOf(info));
    if (changed) throw new InputError(path, `${changed} while it was being hashed; run again once it is complete`);
    stamps?.set(path, stampOf(info));
    if (memo) {
      const record: Remembered = { path, size: info.size, mtimeMs: info.mtimeMs, ctimeMs: info.ctimeMs, ino: info.ino, sha256 };
      await writeFileAtomic(memo, JSON.stringify(record));
    }
    return sha256;
  });
  return new Map(unique.map((path, i) => [path, hashes[i]]));
}

// Content hashes of input files. Hashing a large archive is a full read, so each hash is kept
// beside the cache with the file's size, mtime and inode: an unchanged file is not read again.
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256OfFile } from '../io/file-hash.ts';
import { writeFileAtomic } from '../io/atomic-file.ts';
import { mapLimited } from '../io/input-files.ts';
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

/**
 * sha256 of every file, keyed by path. With `memoDir`, hashes are remembered there and reused
 * while a file's size, modification time and inode are unchanged.
 */
export async function hashInputFiles(files: string[], memoDir?: string): Promise<Map<string, string>> {
  if (memoDir) await mkdir(memoDir, { recursive: true });
  const unique = [...new Set(files)];
  const hashes = await mapLimited(unique, 4, async (path) => {
    const info = await stat(path);
    const memo = memoDir ? join(memoDir, `${hashParts(path).slice(0, 32)}.json`) : undefined;
    if (memo) {
      const known = await readFile(memo, 'utf8').then((t) => JSON.parse(t) as Remembered, () => undefined);
      if (known && known.path === path && known.size === info.size && known.mtimeMs === info.mtimeMs && known.ctimeMs === info.ctimeMs && known.ino === info.ino) return known.sha256;
    }
    const sha256 = await sha256OfFile(path);
    if (memo) {
      const record: Remembered = { path, size: info.size, mtimeMs: info.mtimeMs, ctimeMs: info.ctimeMs, ino: info.ino, sha256 };
      await writeFileAtomic(memo, JSON.stringify(record));
    }
    return sha256;
  });
  return new Map(unique.map((path, i) => [path, hashes[i]]));
}

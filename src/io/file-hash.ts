// The sha256 of a file's bytes: how inputs, outputs and kept files are named.
import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import { open } from 'node:fs/promises';

const piece = 1 << 20;

/** Read through one open handle: a small file (most partitions of a file glob) is a single read. */
export async function sha256OfFile(path: string): Promise<string> {
  return (await sha256WithStats(path)).sha256;
}

/**
 * The hash, and the file's status before and after the read (through the same handle, so a file
 * renamed over the path meanwhile does not confuse it): when they differ, it was written while read.
 */
export async function sha256WithStats(path: string): Promise<{ sha256: string; before: Stats; after: Stats }> {
  const handle = await open(path, 'r');
  try {
    const before = await handle.stat();
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(Math.min(piece, before.size + 1));
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
    return { sha256: hash.digest('hex'), before, after: await handle.stat() };
  } finally {
    await handle.close();
  }
}

// Shrinks the blobs of distributed runs (task requests and replies, kept in the shared store) to
// those written recently: a blob is needed only while its run goes on, and a task whose reply was
// pruned is computed again if ever asked for.
import type { Blobs } from './blobs.ts';
import type { PruneResult } from './prune.ts';

/** `removed` receives the name of each blob removed. */
export async function pruneBlobs(blobs: Blobs, olderThanMs: number, removed?: Set<string>, now = Date.now()): Promise<PruneResult> {
  const result: PruneResult = { kept: 0, removed: 0, freedBytes: 0 };
  for await (const entry of blobs.list()) {
    if (now - entry.modifiedMs < olderThanMs) {
      result.kept++;
      continue;
    }
    await blobs.remove(entry);
    removed?.add(entry.name);
    result.removed++;
    result.freedBytes += entry.bytes;
  }
  return result;
}

/** `30s`, `15m`, `12h` or `7d` in milliseconds; undefined for anything else. */
export function parseAge(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)([smhd])$/.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[match[2] as 's' | 'm' | 'h' | 'd'];
}

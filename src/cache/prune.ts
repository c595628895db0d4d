// Shrinks a store to the entries a caller still wants (`quiver cache prune` keeps what the most
// recent runs used) and deletes the rest.
import type { Store } from './store.ts';

export interface PruneResult {
  kept: number;
  removed: number;
  freedBytes: number;
}

export async function pruneStore(store: Store, keep: (key: string) => boolean): Promise<PruneResult> {
  const result: PruneResult = { kept: 0, removed: 0, freedBytes: 0 };
  for await (const entry of store.list()) {
    if (keep(entry.key)) {
      result.kept++;
      continue;
    }
    await store.remove(entry);
    result.removed++;
    result.freedBytes += entry.bytes;
  }
  if (result.removed > 0) await store.compact?.();
  return result;
}

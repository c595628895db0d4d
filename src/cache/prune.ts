// `quiver cache prune`: keeps the cache entries the most recent runs used (their records list every
// task key and output hash) and deletes the rest.
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { listRuns, readManifest } from '../provenance/runs.ts';
import { rejectedKey } from './keys.ts';

export interface PruneResult {
  /** Runs whose entries were kept. */
  keptRuns: string[];
  kept: number;
  removed: number;
  freedBytes: number;
}

export function pruneCache(outDir: string, keepRuns: number): PruneResult {
  const cacheDir = join(outDir, '.quiver', 'cache');
  const recent = listRuns(outDir).filter((r) => r.status !== 'interrupted').slice(0, keepRuns);
  const used = new Set<string>();
  for (const run of recent) {
    const { manifest } = readManifest(outDir, run.runId);
    // Fix: a kept task's quarantined rows are stored under their own key (keys.ts rejectedKey);
    // pruning them while keeping the task made its replay fail on the missing stream.
    for (const t of manifest.tasks ?? []) used.add(t.key).add(rejectedKey(t.key));
    for (const o of manifest.outputs) used.add(o.sha256);
  }
  const result: PruneResult = { keptRuns: recent.map((r) => r.runId), kept: 0, removed: 0, freedBytes: 0 };
  for (const folder of ['streams', 'records', 'sinks', 'files']) {
    const root = join(cacheDir, folder);
    let entries;
    try {
      entries = readdirSync(root, { recursive: true, withFileTypes: true });
    } catch {
      continue; // nothing cached of this kind
    }
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      // Names are KEY.qstream, KEY.json or SHA256: the key is what comes before the first dot.
      if (used.has(entry.name.split('.')[0])) {
        result.kept++;
        continue;
      }
      const path = join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name);
      const { size, nlink } = statSync(path);
      rmSync(path, { force: true });
      result.removed++;
      if (nlink === 1) result.freedBytes += size; // a file still linked from OUT frees nothing
    }
  }
  return result;
}

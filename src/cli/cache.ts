// `quiver cache prune [--out DIR] [--keep-runs N]`: shrinks the task cache to what recent runs use.
// `quiver cache prune --store STORE [--older-than AGE] [--nats URL]`: removes the task requests and
// replies that distributed runs left in a shared store, and the broker's commits that named them.
import { join } from 'node:path';
import { parseAge, pruneBlobs } from '../cache/prune-blobs.ts';
import { pruneStore, type PruneResult } from '../cache/prune.ts';
import { openBlobs } from '../cache/stores/open-store.ts';
import { pruneCommits } from '../engine/executors/nats-commits.ts';
import { FsStore } from '../cache/stores/fs.ts';
import { rejectedKey } from '../engine/keys.ts';
import { claimOutFolder } from '../engine/out-folder.ts';
import { formatBytes } from '../observe/format.ts';
import { listRuns, readManifest } from '../provenance/runs.ts';
import { parseFlags } from './args.ts';
import { UsageError } from './usage-error.ts';

export async function cacheCommand(args: string[]): Promise<number> {
  const { values, target } = parseFlags(args, {
    out: { type: 'string', default: 'out' },
    'keep-runs': { type: 'string', default: '3' },
    store: { type: 'string' },
    'older-than': { type: 'string' },
    nats: { type: 'string' },
  }, "an action ('prune')");
  if (target !== 'prune') throw new UsageError(`quiver cache: unknown action '${target}' (actions: prune)`);
  if (values.store) return pruneShared(values.store, values['older-than'] ?? '7d', values.nats);
  if (values['older-than'] || values.nats) throw new UsageError('--older-than and --nats prune a shared store: give it with --store DIR or s3://bucket/prefix');
  const keep = Number(values['keep-runs']);
  if (!Number.isInteger(keep) || keep < 0) throw new UsageError(`--keep-runs must be a whole number, not '${values['keep-runs']}'`);
  // Not while a run writes or replays entries in the same folder.
  const release = await claimOutFolder(values.out!, 'cache-prune');
  let result;
  try {
    result = await pruneCache(values.out!, keep);
  } finally {
    await release();
  }
  process.stdout.write(
    `kept ${result.kept} cache entries used by the last ${result.keptRuns.length} run(s); ` +
    `removed ${result.removed}, freeing ${formatBytes(result.freedBytes)}\n`,
  );
  return 0;
}

/** The blobs of distributed runs older than `age` in the shared store, and (given the broker) the commits naming them. */
async function pruneShared(store: string, age: string, nats?: string): Promise<number> {
  const olderThanMs = parseAge(age);
  if (olderThanMs === undefined) throw new UsageError(`--older-than must be an age such as 30m, 12h or 7d, not '${age}'`);
  if (nats && !nats.startsWith('nats://')) throw new UsageError(`--nats must be nats://HOST:PORT, not '${nats}'`);
  const blobs = openBlobs(store);
  // Blobs first: a commit is purged only once its reply is gone.
  const removed = new Set<string>();
  const result = await pruneBlobs(blobs, olderThanMs, removed);
  process.stdout.write(`kept ${result.kept} task blobs written in the last ${age}; removed ${result.removed}, freeing ${formatBytes(result.freedBytes)}\n`);
  if (nats) {
    const commits = await pruneCommits(nats, removed);
    process.stdout.write(`kept ${commits.kept} task commits in ${nats}; removed ${commits.removed} whose replies were pruned\n`);
  }
  return 0;
}

/** Keeps the entries the `keepRuns` most recent runs used (their records list every task key and output hash). */
export async function pruneCache(outDir: string, keepRuns: number): Promise<PruneResult & { keptRuns: string[] }> {
  const recent = listRuns(outDir).filter((r) => r.status !== 'interrupted').slice(0, keepRuns);
  const used = new Set<string>();
  for (const run of recent) {
    const { manifest } = readManifest(outDir, run.runId);
    // A kept task's quarantined rows are stored under their own key: pruning them while keeping
    // the task would make its replay fail on the missing stream.
    for (const t of manifest.tasks ?? []) used.add(t.key).add(rejectedKey(t.key));
    for (const o of manifest.outputs) used.add(o.sha256);
  }
  const result = await pruneStore(new FsStore(join(outDir, '.quiver', 'cache')), (key) => used.has(key));
  return { ...result, keptRuns: recent.map((r) => r.runId) };
}

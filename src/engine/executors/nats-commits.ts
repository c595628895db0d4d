// Pruning the commits of distributed runs: a `done.<key>` entry whose reply blob the store no
// longer holds only sends a coordinator looking for it (and then computing the task again), so it
// is purged with the blob's absence as proof. Entries whose replies remain are kept.
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import type { Blobs } from '../../cache/blobs.ts';
import { bucketName, doneKey } from './nats-queue.ts';

export async function pruneCommits(url: string, blobs: Blobs): Promise<{ kept: number; removed: number }> {
  const nc = await connect({ servers: url, name: 'quiver cache prune' });
  const result = { kept: 0, removed: 0 };
  try {
    const kv = await new Kvm(nc).open(bucketName);
    for await (const key of await kv.keys(doneKey('*'))) {
      const entry = await kv.get(key);
      if (entry?.operation !== 'PUT') continue;
      if (await blobs.has(entry.string())) {
        result.kept++;
        continue;
      }
      await kv.purge(key);
      result.removed++;
    }
  } finally {
    await nc.drain();
  }
  return result;
}

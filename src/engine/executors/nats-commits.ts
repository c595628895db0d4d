// Pruning the commits of distributed runs: a `done.<key>` entry whose reply blob was just pruned
// only sends a coordinator looking for it (and then computing the task again), so it is purged.
// Only those: a broker may serve runs with other stores, whose commits name replies kept there.
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { bucketName, doneKey } from './nats-queue.ts';

export async function pruneCommits(url: string, prunedReplies: Set<string>): Promise<{ kept: number; removed: number }> {
  const nc = await connect({ servers: url, name: 'quiver cache prune' });
  const result = { kept: 0, removed: 0 };
  try {
    const kv = await new Kvm(nc).open(bucketName);
    for await (const key of await kv.keys(doneKey('*'))) {
      const entry = await kv.get(key);
      if (entry?.operation !== 'PUT') continue;
      if (!prunedReplies.has(entry.string())) {
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

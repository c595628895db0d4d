// `quiver cache prune [--out DIR] [--keep-runs N]`: shrinks the task cache to what recent runs use.
import { pruneCache } from '../cache/prune.ts';
import { claimOutFolder } from '../engine/out-folder.ts';
import { formatBytes } from '../observe/format.ts';
import { parseFlags } from './args.ts';
import { UsageError } from './usage-error.ts';

export async function cacheCommand(args: string[]): Promise<number> {
  const { values, target } = parseFlags(args, {
    out: { type: 'string', default: 'out' },
    'keep-runs': { type: 'string', default: '3' },
  }, "an action ('prune')");
  if (target !== 'prune') throw new UsageError(`quiver cache: unknown action '${target}' (actions: prune)`);
  const keep = Number(values['keep-runs']);
  if (!Number.isInteger(keep) || keep < 0) throw new UsageError(`--keep-runs must be a whole number, not '${values['keep-runs']}'`);
  // Not while a run writes or replays entries in the same folder.
  const release = await claimOutFolder(values.out!, 'cache-prune');
  let result;
  try {
    result = pruneCache(values.out!, keep);
  } finally {
    await release();
  }
  process.stdout.write(
    `kept ${result.kept} cache entries used by the last ${result.keptRuns.length} run(s); ` +
    `removed ${result.removed}, freeing ${formatBytes(result.freedBytes)}\n`,
  );
  return 0;
}

// `quiver rerun RUN --verify [--out DIR] [--keep]`: reproduce a recorded run and say, per output,
// whether the bytes are the same. Exit 0 when every output is identical, 1 otherwise.
import { verifyRun } from '../engine/rerun.ts';
import { builtinCatalog } from '../stages/catalog.ts';
import { parseFlags } from './args.ts';
import { UsageError } from './usage-error.ts';

export async function rerunCommand(args: string[]): Promise<number> {
  const { values, target } = parseFlags(args, {
    out: { type: 'string', default: 'out' },
    verify: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    workers: { type: 'string' },
    'allow-path': { type: 'string', multiple: true },
  }, 'one run id (or a prefix of one, or latest)');
  if (!values.verify) throw new UsageError('quiver rerun needs --verify (rerunning to compare is what it does)');
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  const result = await verifyRun(values.out!, target, { catalog: builtinCatalog, workers, keep: values.keep, allowPaths: values['allow-path'] });
  const lines = result.outputs.map((o) => {
    const detail = o.status === 'differs' ? ` (recorded ${o.recorded!.slice(0, 12)}…, now ${o.now!.slice(0, 12)}…)` : '';
    return `${o.status.padEnd(9)}  ${o.path}${detail}`;
  });
  if (result.rerun.status !== 'ok') lines.push(`the rerun failed: ${result.rerun.error}`);
  for (const input of result.changedInputs) lines.push(`input changed since the run: ${input}`);
  const same = result.outputs.filter((o) => o.status === 'identical').length;
  lines.push(`run ${result.runId}: ${same} of ${result.outputs.length} output(s) identical${result.identical ? '' : `; the rerun's files are in ${result.scratch}`}`);
  process.stdout.write(lines.join('\n') + '\n');
  return result.identical ? 0 : 1;
}

// `quiver worker --nats URL --store STORE [--caps cpu,gpu] [--threads N] [--idle-exit S]`: runs
// tasks of distributed runs until a signal (SIGTERM, SIGINT) or an idle exit; 0 either way.
import { parseArgs } from 'node:util';
import { runNatsWorker } from '../engine/executors/nats-worker.ts';
import { UsageError } from './usage-error.ts';

export async function workerCommand(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args, strict: true, allowPositionals: false,
      options: { nats: { type: 'string' }, store: { type: 'string' }, caps: { type: 'string', default: 'cpu' }, threads: { type: 'string', default: '1' }, 'idle-exit': { type: 'string' } },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (!values.nats?.startsWith('nats://')) throw new UsageError(`--nats must be a broker URL, nats://HOST:PORT${values.nats ? `, not '${values.nats}'` : ''}`);
  if (!values.store) throw new UsageError('--store is required: the folder the coordinator and every worker mount');
  const threads = Number(values.threads);
  if (!Number.isInteger(threads) || threads < 1) throw new UsageError(`--threads must be a positive whole number, not '${values.threads}'`);
  const idleExitSeconds = values['idle-exit'] === undefined ? undefined : Number(values['idle-exit']);
  if (idleExitSeconds !== undefined && !(idleExitSeconds > 0)) throw new UsageError(`--idle-exit is seconds (more than 0), not '${values['idle-exit']}'`);
  const caps = values.caps!.split(',').map((c) => c.trim()).filter(Boolean);
  if (caps.length === 0 || caps.some((c) => !/^[a-z0-9-]+$/.test(c))) throw new UsageError(`--caps is a list of names like cpu,gpu, not '${values.caps}'`);

  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    await runNatsWorker({ url: values.nats, store: values.store, caps, threads, idleExitSeconds, signal: stop.signal, log: (line) => process.stderr.write(line + '\n') });
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
  return 0;
}

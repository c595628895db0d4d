// `quiver serve [--out DIR]... [--port 8470] [--host 127.0.0.1]`: the local, read-only web view of
// the runs recorded in one or more out folders (src/observe/serve/). Prints its address; stops,
// exiting 0, on SIGINT or SIGTERM.
import { parseArgs } from 'node:util';
import { startServer } from '../observe/serve/server.ts';
import { UsageError } from './usage-error.ts';

export async function serveCommand(args: string[]): Promise<number> {
  let values: { out?: string[]; port: string; host: string };
  try {
    const parsed = parseArgs({
      args, strict: true, allowPositionals: false,
      options: { out: { type: 'string', multiple: true }, port: { type: 'string', default: '8470' }, host: { type: 'string', default: '127.0.0.1' } },
    });
    values = parsed.values as typeof values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (!/^\d{1,5}$/.test(values.port) || Number(values.port) > 65535) throw new UsageError(`--port must be a port number (0 picks a free one), not '${values.port}'`);
  const outs = values.out?.length ? values.out : ['out'];
  const server = await startServer({ outs, port: Number(values.port), host: values.host });
  process.stdout.write(`quiver serve: runs of ${outs.join(', ')} at ${server.url}\n`);
  if (values.host !== '127.0.0.1' && values.host !== 'localhost' && values.host !== '::1') {
    process.stderr.write(`quiver serve: listening on ${values.host}: anyone who can reach it can read these runs and their outputs\n`);
  }
  await new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.close();
  return 0;
}

// Real processes for the distributed tests and benchmark: a nats-server with JetStream on a free
// port, `quiver` commands (workers, coordinators), each watched through its output, and every one
// of them stopped at the end.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { repoRoot } from '../helpers.ts';

export interface Started {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves once stderr has matched; rejects if the process exits first. */
  says: (pattern: RegExp) => Promise<void>;
  exited: Promise<number | null>;
}

const started: Started[] = [];

/** `env`: variables added to this process's (an S3 store's endpoint and credentials). */
export function start(command: string, args: string[], env: Record<string, string> = {}): Started {
  const child = spawn(command, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => {
    stderr += d;
    for (const listener of listeners) listener();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const says = (pattern: RegExp) => new Promise<void>((resolve, reject) => {
    const check = () => {
      if (!pattern.test(stderr)) return;
      listeners.delete(check);
      resolve();
    };
    listeners.add(check);
    check();
    exited.then(() => reject(new Error(`${command} ${args.join(' ')} exited before saying ${pattern}:\n${stderr}`)));
  });
  const handle = { child, stdout: () => stdout, stderr: () => stderr, says, exited };
  started.push(handle);
  return handle;
}

export const quiver = (...args: string[]) => quiverWith({}, ...args);

/** `quiver ARGS` with `env` added to the environment. */
export const quiverWith = (env: Record<string, string>, ...args: string[]) => start(process.execPath, [join(repoRoot, 'src/cli/quiver.mjs'), ...args], env);

/** `quiver ARGS`, to its end. */
export async function quiverRun(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return quiverRunWith({}, ...args);
}

/** `quiver ARGS` with `env` added, to its end. */
export async function quiverRunWith(env: Record<string, string>, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = quiverWith(env, ...args);
  const code = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

const natsServer = process.env.NATS_SERVER ?? 'nats-server';
export const haveNatsServer = spawnSync(natsServer, ['--version']).status === 0;

/** A nats-server of our own with JetStream, its state under `dir`; resolves with its URL once it is ready. */
export async function startNats(dir: string): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  await start(natsServer, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', join(dir, 'jetstream')]).says(/Server is ready/);
  return `nats://127.0.0.1:${port}`;
}

/** Kills whatever is still running and waits for it to be gone. */
export async function stopAll(): Promise<void> {
  for (const p of started) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(started.map((p) => p.exited));
}

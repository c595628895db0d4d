// Issue 17's fault tests: workers in network namespaces of their own (ip netns, veth pairs, a
// bridge), talking to a nats-server on the bridge's address; the coordinator in the root namespace;
// one shared folder store (namespaces share the filesystem). Each case hurts a run on purpose — a
// worker killed mid-task, a worker's link cut for longer than AckWait, the broker killed and
// restarted, the coordinator killed and the run started again — and must still end with outputs
// byte for byte those of a local run, no duplicate rows, and no temporary file left behind.
// Fixed waits appear only as setup (to outlast AckWait); no assertion depends on speed.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { duckdb, repoRoot, scratchDir } from '../helpers.ts';
import { ackWaitMs } from '../../src/engine/executors/nats-queue.ts';
import { createNetwork, netnsUnavailable, type Namespace, type Network } from './netns.ts';
import { haveNatsServer, quiver, quiverRun, start, stopAll, type Started } from './processes.ts';

const natsServer = process.env.NATS_SERVER ?? 'nats-server';
const skip = !haveNatsServer ? 'no nats-server on PATH (or in NATS_SERVER)' : netnsUnavailable;
if (skip) console.warn(`test/distributed/netns.test.ts skipped: ${skip}`);

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const burn = join('test', 'fixtures', 'burn.yaml');
// Tasks long enough (seconds each) that a fault lands while tasks are being computed.
const params = ['--set', 'partitions=8', '--set', 'rounds=3000'];
const rows = 8 * 20_000;

/** Temporary files anywhere under `dir` (interrupted writes: `*.tmp`). */
const temporaries = (dir: string) => readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.tmp'));

describe.skipIf(!!skip)(skip ? `workers in network namespaces (skipped: ${skip})` : 'workers in network namespaces', { timeout: 300_000 }, () => {
  const dir = scratchDir('quiver-netns-');
  let net: Network | undefined;
  let local: string;

  beforeAll(async () => {
    net = createNetwork(2);
    const run = await quiverRun('run', burn, '--out', join(dir, 'local'), ...params);
    expect(run.code, run.stderr).toBe(0);
    local = sha256(join(dir, 'local', 'burned.parquet'));
  }, 300_000);

  // Processes first (a namespace with a process in it outlives `ip netns del`), then the network.
  afterAll(async () => {
    await stopAll();
    net?.remove();
  });

  /** A broker with JetStream on the bridge's address, its state in `jetstream`. */
  const broker = async (port: number, jetstream: string): Promise<Started> => {
    const server = start(natsServer, ['-js', '-a', net!.address, '-p', String(port), '-sd', jetstream]);
    await server.says(/Server is ready/);
    return server;
  };

  const worker = (ns: Namespace, url: string, store: string) => {
    const [command, args] = net!.inside(ns, process.execPath, [join(repoRoot, 'src/cli/quiver.mjs'), 'worker', '--nats', url, '--store', store, '--threads', '1']);
    return start(command, args);
  };

  /** A fresh broker, store and out folder for one case, a worker in each namespace, and a coordinator started. */
  async function cluster(name: string) {
    const base = join(dir, name);
    const port = await net!.freePort();
    const url = `nats://${net!.address}:${port}`;
    const jetstream = join(base, 'jetstream');
    const store = join(base, 'store');
    const out = join(base, 'out');
    const server = await broker(port, jetstream);
    const workers = net!.namespaces.map((ns) => worker(ns, url, store));
    await Promise.all(workers.map((w) => w.says(/^worker: nats:/m)));
    const coordinate = () => quiver('run', burn, '--out', out, '--executor', url, '--store', store, '--json', ...params);
    return { port, url, jetstream, store, out, workers, server: { current: server }, coordinate };
  }

  /** What every case ends with: the run's outputs are the local run's, once each, with nothing half-written left. */
  async function expectClean({ out, store, workers }: { out: string; store: string; workers: Started[] }, run: Started) {
    const code = await run.exited;
    expect(code, [run.stderr(), ...workers.map((w, i) => `worker ${i}:\n${w.stderr()}`)].join('\n')).toBe(0);
    expect(JSON.parse(run.stdout()).status).toBe('ok');
    const output = join(out, 'burned.parquet');
    expect(sha256(output)).toBe(local);
    expect(await duckdb(`select count(*)::int, count(distinct id)::int from '${output}'`)).toEqual([[rows, rows]]);
    expect(temporaries(out)).toEqual([]);
    expect(temporaries(store)).toEqual([]);
  }

  /** Stops the case's workers (SIGTERM: each must still be able to stop cleanly) and its broker. */
  async function teardown(c: { workers: Started[]; server: { current: Started } }, alive: Started[]) {
    const before = alive.map((w) => (w.child.exitCode ?? w.child.signalCode) === null ? 'running' : `had exited (${w.child.exitCode ?? w.child.signalCode})`);
    for (const w of alive) w.child.kill('SIGTERM');
    const codes = await Promise.all(alive.map((w) => w.exited));
    expect(codes, alive.map((w, i) => `worker ${i}, ${before[i]} before SIGTERM:\n${w.stderr()}`).join('\n')).toEqual(alive.map(() => 0));
    for (const w of c.workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    c.server.current.child.kill('SIGKILL');
    await Promise.all([...c.workers.map((w) => w.exited), c.server.current.exited]);
  }

  const took = (w: Started) => [...w.stderr().matchAll(/^worker: took (\w+)/gm)].map((m) => m[1]);

  test('a worker killed (-9) mid-task in its namespace: its task goes to the other, the run completes identical', async () => {
    const c = await cluster('kill-worker');
    const [doomed, other] = c.workers;
    const run = c.coordinate();
    await doomed.says(/^worker: took /m);
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    const held = took(doomed)[0];
    await expectClean(c, run);
    expect(took(other)).toContain(held);
    await teardown(c, [other]);
  });

  test('a worker cut off for longer than AckWait, then restored: the run completes identical, the cut-off worker goes on', async () => {
    const c = await cluster('cut-link');
    const [cut, other] = c.workers;
    const run = c.coordinate();
    await cut.says(/^worker: took /m);
    net!.cut(net!.namespaces[0]);
    await sleep(ackWaitMs + 5_000); // setup: long enough for the broker to give the task to another
    net!.restore(net!.namespaces[0]);
    await expectClean(c, run);
    // Whoever committed first, the task was computed: by the cut-off worker late, or by the other.
    const held = took(cut)[0];
    expect([...took(cut), ...took(other)].filter((k) => k === held).length).toBeGreaterThanOrEqual(1);
    await teardown(c, [cut, other]);
  });

  test('the broker killed (-9) mid-run and restarted on the same address and state: the clients reconnect, the run completes identical', async () => {
    const c = await cluster('kill-broker');
    const run = c.coordinate();
    await Promise.race(c.workers.map((w) => w.says(/^worker: took /m)));
    c.server.current.child.kill('SIGKILL');
    await c.server.current.exited;
    c.server.current = await broker(c.port, c.jetstream);
    await expectClean(c, run);
    await teardown(c, c.workers);
  });

  test('the coordinator killed (-9) mid-run and the same command run again: completes identical', async () => {
    const c = await cluster('kill-coordinator');
    const first = c.coordinate();
    await Promise.race(c.workers.map((w) => w.says(/^worker: took /m)));
    first.child.kill('SIGKILL');
    await first.exited;
    await expectClean(c, c.coordinate());
    await teardown(c, c.workers);
  });
});

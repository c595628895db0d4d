// `quiver slurm-workers` (README "Running on many machines"): N `quiver worker` processes submitted
// to SLURM as one job array, each exiting by itself once idle. The real-SLURM part needs root, Debian's
// slurm-wlm and munge, and starts slurmctld + slurmd on this machine (test/distributed/slurm.sh), so it
// runs only with QUIVER_TEST_SLURM=1; the sbatch script (--dry-run) and the usage errors need no SLURM.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { repoRoot, scratchDir } from '../helpers.ts';
import { haveNatsServer, quiverRun, quiverRunWith, startNats, stopAll } from './processes.ts';

const run = promisify(execFile);
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const entry = join(repoRoot, 'src/cli/quiver.mjs');

const dir = scratchDir('quiver-slurm-cli-');

test('--dry-run prints the sbatch script: one job array of workers that exit when idle, with the options given', async () => {
  const store = join(dir, 'store');
  const result = await quiverRun('slurm-workers', '4', '--nats', 'nats://broker:4222', '--store', store, '--partition', 'short', '--time', '0-02:00',
    '--caps', 'cpu,gpu', '--cpus-per-task', '8', '--sbatch-arg=--gres=gpu:1', '--dry-run');
  expect(result.code, result.stderr).toBe(0);
  expect(result.stdout.split('\n')).toEqual([
    '#!/bin/bash',
    '#SBATCH --job-name=quiver-worker',
    '#SBATCH --array=0-3',
    '#SBATCH --ntasks=1',
    '#SBATCH --cpus-per-task=8',
    '#SBATCH --partition=short',
    '#SBATCH --time=0-02:00',
    `#SBATCH --output=${join(store, 'slurm-logs', 'quiver-worker-%A_%a.out')}`,
    '#SBATCH --gres=gpu:1',
    '# quiver slurm-workers: one quiver worker per array task; it exits after 300 s without a task.',
    `exec ${process.execPath} ${entry} worker --nats nats://broker:4222 --store ${store} --caps cpu,gpu --threads "\${SLURM_CPUS_PER_TASK:-1}" --idle-exit 300`,
    '',
  ]);

  // A fixed --threads, another log folder, a relative store made absolute, no partition or time.
  const other = await quiverRun('slurm-workers', '1', '--nats', 'nats://10.0.0.1:4222', '--store', 'rel/store', '--logs', join(dir, 'logs'), '--threads', '2', '--idle-exit', '60', '--dry-run');
  expect(other.code, other.stderr).toBe(0);
  const lines = other.stdout.split('\n');
  expect(lines).toContain('#SBATCH --array=0-0');
  expect(lines).toContain(`#SBATCH --output=${join(dir, 'logs', 'quiver-worker-%A_%a.out')}`);
  expect(lines.some((l) => /^#SBATCH --(partition|time)/.test(l))).toBe(false);
  expect(lines).toContain(`exec ${process.execPath} ${entry} worker --nats nats://10.0.0.1:4222 --store ${join(repoRoot, 'rel/store')} --caps cpu --threads 2 --idle-exit 60`);
});

test('usage: each mistake is one sentence and exit code 2; without sbatch, a sentence saying where to run it and exit code 1', async () => {
  const ok = ['--nats', 'nats://h:4222', '--store', '/s'];
  const cases: [string[], RegExp][] = [
    [['slurm-workers', ...ok], /^quiver slurm-workers: expected N, the number of workers to submit\n/],
    [['slurm-workers', '0', ...ok], /N \(the number of workers\) must be a positive whole number, not '0'\n/],
    [['slurm-workers', '2', '3', ...ok], /expected N, the number of workers to submit\n/],
    [['slurm-workers', '2', '--store', '/s'], /--nats must be a broker URL, nats:\/\/HOST:PORT\n/],
    [['slurm-workers', '2', '--nats', 'nats://h:4222'], /--store is required/],
    [['slurm-workers', '2', ...ok, '--time', '2h'], /--time is a SLURM time limit \(minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS\), not '2h'\n/],
    [['slurm-workers', '2', ...ok, '--partition', 'a b'], /--partition must be a SLURM partition name \(or a comma list\), not 'a b'\n/],
    [['slurm-workers', '2', ...ok, '--idle-exit', '0'], /--idle-exit is seconds \(more than 0\), not '0'\n/],
    [['slurm-workers', '2', ...ok, '--cpus-per-task', 'x'], /--cpus-per-task must be a positive whole number, not 'x'\n/],
    [['slurm-workers', '2', ...ok, '--caps', 'GPU!'], /--caps is a list of names like cpu,gpu, not 'GPU!'\n/],
    [['slurm-workers', '2', ...ok, '--sbatch-arg=--array=1-9'], /--sbatch-arg cannot set --array: quiver slurm-workers sets it\n/],
    [['slurm-workers', '2', ...ok, '--queue', 'q'], /Unknown option '--queue'/],
  ];
  for (const [args, message] of cases) {
    const result = await quiverRun(...args);
    expect(result.code, args.join(' ')).toBe(2);
    expect(result.stderr).toMatch(message);
  }
  const missing = await quiverRunWith({ QUIVER_SBATCH: 'quiver-test-no-such-sbatch' }, 'slurm-workers', '2', '--nats', 'nats://h:4222', '--store', join(dir, 'nosbatch'));
  expect(missing.code).toBe(1);
  expect(missing.stderr).toMatch(/^quiver slurm-workers: quiver-test-no-such-sbatch was not found on PATH: quiver slurm-workers submits jobs to SLURM, so run it on a SLURM login node/m);
});

// Only where asked: it needs root, slurm-wlm and munge, and starts SLURM's daemons on this machine.
describe.runIf(process.env.QUIVER_TEST_SLURM === '1' && haveNatsServer)('workers started by a real one-node SLURM', { timeout: 300_000 }, () => {
  const dir = scratchDir('quiver-slurm-real-');
  const slurmDir = join(dir, 'slurm');
  const env = { SLURM_CONF: join(slurmDir, 'slurm.conf') };
  const slurm = (command: string, ...args: string[]) => run(command, args, { env: { ...process.env, ...env } });
  const timings: string[] = [];
  const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;
  let url: string;

  beforeAll(async () => {
    url = await startNats(dir);
    const t0 = performance.now();
    await run(join(repoRoot, 'test/distributed/slurm.sh'), ['up', slurmDir]);
    timings.push(`SLURM up ${seconds(t0)}`);
  }, 120_000);

  afterAll(async () => {
    await run(join(repoRoot, 'test/distributed/slurm.sh'), ['down', slurmDir]);
    await stopAll();
    // Not asserted (the machine's load decides them): for the record.
    console.log(`slurm.test.ts timings: ${timings.join(', ')}`);
  });

  test('2 workers as a job array: a workflow run through them is byte-identical to a local run, and the jobs end by themselves when idle', async () => {
    const store = join(dir, 'store');
    const local = await quiverRun('run', 'test/fixtures/burn.yaml', '--out', join(dir, 'local'));
    expect(local.code, local.stderr).toBe(0);

    const t0 = performance.now();
    const submitted = await quiverRunWith(env, 'slurm-workers', '2', '--nats', url, '--store', store, '--time', '10', '--idle-exit', '20');
    expect(submitted.code, submitted.stderr).toBe(0);
    const jobId = submitted.stdout.trim();
    expect(jobId).toMatch(/^\d+$/);
    expect(submitted.stderr).toContain(`submitted job array ${jobId} (2 workers: ${jobId}_0..${jobId}_1), logs in ${join(store, 'slurm-logs')}`);

    const remote = await quiverRunWith(env, 'run', 'test/fixtures/burn.yaml', '--out', join(dir, 'remote'), '--executor', url, '--store', store, '--json');
    expect(remote.code, remote.stderr).toBe(0);
    expect(JSON.parse(remote.stdout).status).toBe('ok');
    expect(sha256(join(dir, 'remote', 'burned.parquet'))).toBe(sha256(join(dir, 'local', 'burned.parquet')));
    timings.push(`submit to run done ${seconds(t0)}`);

    // No job of the array is left once both workers have been idle for 20 s (the test's timeout bounds the wait).
    for (;;) {
      const { stdout } = await slurm('squeue', '-h', '--name=quiver-worker', '-o', '%i');
      if (stdout.trim() === '') break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    timings.push(`submit to squeue empty ${seconds(t0)}`);
    const { stdout: jobs } = await slurm('scontrol', 'show', 'job', jobId);
    expect(jobs.match(/ArrayTaskId=\d+/g)?.sort()).toEqual(['ArrayTaskId=0', 'ArrayTaskId=1']);
    expect(jobs.match(/JobState=\w+/g)).toEqual(['JobState=COMPLETED', 'JobState=COMPLETED']);
    expect(jobs.match(/ExitCode=[\d:]+/g)).toEqual(['ExitCode=0:0', 'ExitCode=0:0']);

    // The work was done by the SLURM jobs (no other worker listens on this broker): their logs.
    const logs = readdirSync(join(store, 'slurm-logs')).sort();
    expect(logs).toEqual([`quiver-worker-${jobId}_0.out`, `quiver-worker-${jobId}_1.out`]);
    const texts = logs.map((name) => readFileSync(join(store, 'slurm-logs', name), 'utf8'));
    for (const text of texts) {
      expect(text).toMatch(new RegExp(`^worker: ${url}, 1 thread\\(s\\), caps cpu, store ${store}$`, 'm'));
      expect(text).toMatch(/^worker: idle for 20s, exiting$/m);
    }
    expect(texts.join('').match(/^worker: took /gm)?.length).toBe(6);
  });

  test('sbatch failing: its message, exit code 1', async () => {
    const result = await quiverRunWith(env, 'slurm-workers', '1', '--nats', url, '--store', join(dir, 'store'), '--partition', 'nosuch');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^quiver slurm-workers: sbatch failed \(exit code 1\): sbatch: error: .*[Ii]nvalid partition/m);
  });
});

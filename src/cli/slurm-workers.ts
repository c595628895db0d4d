// `quiver slurm-workers N --nats URL --store STORE [--partition P] [--time T] [--caps ...] ...`:
// submits N `quiver worker` processes to SLURM as one job array (`sbatch --array=0-(N-1)`). Each
// array task is one long-lived worker that pulls tasks from the broker and exits by itself after
// --idle-exit seconds without a task, so the allocation ends when the work does. SLURM starts the
// workers; it never runs the tasks themselves (a job per task costs seconds of scheduling each).
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags } from './args.ts';
import { UsageError } from './usage-error.ts';
import { packageRoot } from '../workflow/own-code.ts';

const quiverEntry = fileURLToPath(new URL('src/cli/quiver.mjs', packageRoot));

export interface SlurmWorkersPlan {
  count: number;
  nats: string;
  store: string;
  logs: string;
  caps: string;
  cpusPerTask: number;
  /** Fixed threads per worker; undefined: as many as the job's CPUs (SLURM_CPUS_PER_TASK). */
  threads?: number;
  idleExitSeconds: number;
  partition?: string;
  time?: string;
  /** More sbatch options, each one `--name=value` as sbatch takes them. */
  sbatchArgs: string[];
  node: string;
  entry: string;
}

/** A word for the shell, quoted only when it needs to be. */
export function shellWord(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The batch script: #SBATCH lines, then one `quiver worker` (exec'd, so SLURM's signals reach it). */
export function sbatchScript(plan: SlurmWorkersPlan): string {
  const directives = [
    '--job-name=quiver-worker',
    `--array=0-${plan.count - 1}`,
    '--ntasks=1',
    `--cpus-per-task=${plan.cpusPerTask}`,
    ...(plan.partition ? [`--partition=${plan.partition}`] : []),
    ...(plan.time ? [`--time=${plan.time}`] : []),
    `--output=${join(plan.logs, 'quiver-worker-%A_%a.out')}`,
    ...plan.sbatchArgs,
  ];
  const threads = plan.threads === undefined ? '"${SLURM_CPUS_PER_TASK:-1}"' : String(plan.threads);
  const worker = [plan.node, plan.entry, 'worker', '--nats', plan.nats, '--store', plan.store, '--caps', plan.caps].map(shellWord);
  return [
    '#!/bin/bash',
    ...directives.map((d) => `#SBATCH ${shellWord(d)}`),
    `# quiver slurm-workers: one quiver worker per array task; it exits after ${plan.idleExitSeconds} s without a task.`,
    `exec ${worker.join(' ')} --threads ${threads} --idle-exit ${plan.idleExitSeconds}`,
    '',
  ].join('\n');
}

const timePattern = /^(\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d+|\d+-\d+:\d{1,2}|\d+-\d+:\d{1,2}:\d{1,2}|UNLIMITED|INFINITE)$/i;

function positiveInteger(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive whole number, not '${value}'`);
  return n;
}

export function planFromArgs(args: string[]): { plan: SlurmWorkersPlan; dryRun: boolean } {
  const { values, target } = parseFlags(args, {
    nats: { type: 'string' },
    store: { type: 'string' },
    partition: { type: 'string' },
    time: { type: 'string' },
    caps: { type: 'string', default: 'cpu' },
    threads: { type: 'string' },
    'cpus-per-task': { type: 'string', default: '1' },
    'idle-exit': { type: 'string', default: '300' },
    logs: { type: 'string' },
    'sbatch-arg': { type: 'string', multiple: true },
    'dry-run': { type: 'boolean', default: false },
  }, 'N, the number of workers to submit');
  const count = positiveInteger('N (the number of workers)', target)!;
  if (!values.nats?.startsWith('nats://')) throw new UsageError(`--nats must be a broker URL, nats://HOST:PORT${values.nats ? `, not '${values.nats}'` : ''}`);
  if (!values.store) throw new UsageError('--store is required: the folder (or s3:// prefix) the coordinator and every worker share');
  const caps = values.caps!.split(',').map((c) => c.trim()).filter(Boolean);
  if (caps.length === 0 || caps.some((c) => !/^[a-z0-9-]+$/.test(c))) throw new UsageError(`--caps is a list of names like cpu,gpu, not '${values.caps}'`);
  const idleExitSeconds = Number(values['idle-exit']);
  if (!/^\d+(\.\d+)?$/.test(values['idle-exit']!) || !(idleExitSeconds > 0)) throw new UsageError(`--idle-exit is seconds (more than 0), not '${values['idle-exit']}'`);
  if (values.partition !== undefined && !/^[A-Za-z0-9_.,-]+$/.test(values.partition)) throw new UsageError(`--partition must be a SLURM partition name (or a comma list), not '${values.partition}'`);
  if (values.time !== undefined && !timePattern.test(values.time)) {
    throw new UsageError(`--time is a SLURM time limit (minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS), not '${values.time}'`);
  }
  const sbatchArgs = values['sbatch-arg'] ?? [];
  for (const arg of sbatchArgs) {
    if (!/^--?[A-Za-z]/.test(arg)) throw new UsageError(`--sbatch-arg takes one sbatch option such as --sbatch-arg=--gres=gpu:1, not '${arg}'`);
    if (/^--(array|output|job-name|wrap)\b/.test(arg)) throw new UsageError(`--sbatch-arg cannot set ${arg.split('=')[0]}: quiver slurm-workers sets it`);
  }
  // Every compute node runs the script from its own working directory: paths are made absolute here.
  const store = values.store.startsWith('s3://') ? values.store : resolve(values.store);
  const logs = resolve(values.logs ?? (store.startsWith('s3://') ? 'slurm-logs' : join(store, 'slurm-logs')));
  const plan: SlurmWorkersPlan = {
    count,
    nats: values.nats,
    store,
    logs,
    caps: caps.join(','),
    cpusPerTask: positiveInteger('--cpus-per-task', values['cpus-per-task'])!,
    threads: positiveInteger('--threads', values.threads),
    idleExitSeconds,
    partition: values.partition,
    time: values.time,
    sbatchArgs,
    node: process.execPath,
    entry: quiverEntry,
  };
  return { plan, dryRun: values['dry-run']! };
}

/** Runs sbatch with the script on stdin; resolves with its stdout, stderr and exit code. */
function sbatch(script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const command = process.env.QUIVER_SBATCH ?? 'sbatch';
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, ['--parsable'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'ENOENT'
        ? new Error(`${command} was not found on PATH: quiver slurm-workers submits jobs to SLURM, so run it on a SLURM login node (or where SLURM's client commands are installed, e.g. apt-get install slurm-client with the cluster's slurm.conf and munge key)`)
        : error);
    });
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
    child.stdin.on('error', () => {});
    child.stdin.end(script);
  });
}

export async function slurmWorkersCommand(args: string[]): Promise<number> {
  const { plan, dryRun } = planFromArgs(args);
  const script = sbatchScript(plan);
  if (dryRun) {
    process.stdout.write(script);
    return 0;
  }
  const host = plan.nats.replace(/^nats:\/\//, '').replace(/:\d+$/, '');
  if (/^(localhost|127\.|\[?::1\]?$)/.test(host)) {
    process.stderr.write(`quiver slurm-workers: note: workers on other nodes cannot reach ${host}; give the broker's address as the compute nodes see it\n`);
  }
  mkdirSync(plan.logs, { recursive: true });
  const result = await sbatch(script);
  if (result.code !== 0) {
    throw new Error(`sbatch failed (exit code ${result.code}): ${result.stderr.trim() || result.stdout.trim() || 'no message'}`);
  }
  // --parsable: "JOBID" or "JOBID;CLUSTER".
  const jobId = result.stdout.trim().split(/\s+/).pop()!.split(';')[0];
  if (!/^\d+$/.test(jobId)) throw new Error(`sbatch answered '${result.stdout.trim()}', not a job id`);
  process.stdout.write(`${jobId}\n`);
  process.stderr.write(`quiver slurm-workers: submitted job array ${jobId} (${plan.count} worker${plan.count === 1 ? '' : 's'}: ${jobId}_0..${jobId}_${plan.count - 1}), logs in ${plan.logs}\n`);
  return 0;
}

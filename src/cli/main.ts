// Dispatches `quiver COMMAND ...` and turns failures into exit codes (DESIGN.md §3):
// 0 ok, 1 failed, 2 invalid workflow or usage.
import { cacheCommand } from './cache.ts';
import { exportCommand } from './export.ts';
import { graphCommand } from './graph.ts';
import { inspectCommand } from './inspect.ts';
import { rerunCommand } from './rerun.ts';
import { reportCommand } from './report.ts';
import { runCommand } from './run.ts';
import { scheduleCommand } from './schedule.ts';
import { simulateCommand } from './simulate.ts';
import { slurmWorkersCommand } from './slurm-workers.ts';
import { runsCommand } from './runs.ts';
import { UsageError } from './usage-error.ts';
import { validateCommand } from './validate.ts';
import { workerCommand } from './worker.ts';

const usage = `quiver — Arrow-native workflows for scientific data

  quiver validate FILE [--set k=v]... [--allow-path DIR]...
                                                  check a workflow without reading data
  quiver run FILE|DIR... [--set k=v]... [--out DIR] [--workers N] [--executor local|nats://HOST:PORT]
                  [--store DIR] [--json] [--explain] [--no-cache] [--allow-path DIR|s3://BUCKET/PREFIX]...
  quiver worker --nats nats://HOST:PORT --store DIR [--caps cpu,gpu] [--threads N] [--idle-exit S]
                                                  run tasks of distributed runs (until a signal)
  quiver slurm-workers N --nats nats://HOST:PORT --store DIR [--partition P] [--time T] [--caps cpu,gpu]
                  [--cpus-per-task C] [--threads N] [--idle-exit S] [--logs DIR] [--sbatch-arg=OPT]... [--dry-run]
                                                  submit N workers to SLURM (one job array); each exits
                                                  after S seconds without a task (default 300)
  quiver graph FILE [--format mermaid|dot] [--allow-path DIR]...
                                                  print the stage graph
  quiver inspect PATH [--rows N] [--with k=v]... [--json]
                                                  schema and first rows of a data file
  quiver schedule FILE [--set k=v]... [--out DIR] [--workers N]
                                                  keep running FILE on its schedule (Ctrl-C stops)
  quiver simulate SCENARIO.yaml [--out DIR]      simulated radar CPIs as SigMF, with a truth table
  quiver runs [--out DIR] [--json]                the runs recorded in DIR, newest first
  quiver rerun RUN --verify [--out DIR] [--keep]  run a recorded run again, uncached; compare outputs
  quiver cache prune [--out DIR] [--keep-runs N]  keep only what the last N runs used (default 3)
  quiver export RUN --to DEST [--out DIR] [--with-inputs] [--inputs-from DIR] [--license ID]
                                                  one run (id, id prefix or latest) as a Workflow Run RO-Crate
  quiver report RUN [--out DIR] [--to FILE]     one run as a self-contained HTML page
                                                  (default FILE: DIR/.quiver/runs/RUN_ID/report.html)

Exit codes: 0 ok, 1 failed, 2 invalid workflow or usage.`;

const commands: Record<string, (args: string[]) => Promise<number>> = {
  validate: validateCommand,
  run: runCommand,
  graph: graphCommand,
  inspect: inspectCommand,
  schedule: scheduleCommand,
  simulate: simulateCommand,
  runs: runsCommand,
  rerun: rerunCommand,
  cache: cacheCommand,
  export: exportCommand,
  report: reportCommand,
  worker: workerCommand,
  'slurm-workers': slurmWorkersCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage + '\n');
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`quiver: unknown command '${name}'\n\n${usage}\n`);
    return 2;
  }
  try {
    return await command(args);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`quiver ${name}: ${message}\n`);
    return error instanceof UsageError ? 2 : 1;
  }
}

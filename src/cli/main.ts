// Dispatches `quiver COMMAND ...` and turns failures into exit codes (DESIGN.md §3):
// 0 ok, 1 failed, 2 invalid workflow or usage. Each command's module is imported only when that
// command runs, so that `quiver --help` (or `quiver runs`) loads no stage, Arrow or Parquet code.
import { UsageError } from './usage-error.ts';

const usage = `quiver — Arrow-native workflows for scientific data
(the nearest quiver.yaml above a workflow, its project file, may allow data folders and set defaults
for --out and --workers; flags win, --no-project ignores it)

  quiver validate FILE [--set k=v]... [--allow-path DIR]... [--no-project]
                                                  check a workflow without reading data
  quiver run FILE|DIR... [--set k=v]... [--out DIR] [--workers N] [--executor local|nats://HOST:PORT]
                  [--store DIR] [--json] [--explain] [--no-cache] [--allow-path DIR|s3://BUCKET/PREFIX]... [--no-project]
  quiver worker --nats nats://HOST:PORT --store DIR [--caps cpu,gpu] [--threads N] [--idle-exit S]
                                                  run tasks of distributed runs (until a signal)
  quiver slurm-workers N --nats nats://HOST:PORT --store DIR [--partition P] [--time T] [--caps cpu,gpu]
                  [--cpus-per-task C] [--threads N] [--idle-exit S] [--logs DIR] [--sbatch-arg=OPT]... [--dry-run]
                                                  submit N workers to SLURM (one job array); each exits
                                                  after S seconds without a task (default 300)
  quiver graph FILE [--format mermaid|dot] [--allow-path DIR]... [--no-project]
                                                  print the stage graph
  quiver inspect PATH [--rows N] [--with k=v]... [--json]
                                                  schema and first rows of a data file
  quiver schedule FILE [--set k=v]... [--out DIR] [--workers N] [--allow-path DIR]... [--no-project]
                                                  keep running FILE on its schedule (Ctrl-C stops)
  quiver simulate SCENARIO.yaml [--out DIR]      simulated radar CPIs as SigMF, with a truth table
  quiver runs [--out DIR] [--json]                the runs recorded in DIR, newest first
  quiver rerun RUN --verify [--out DIR] [--keep]  run a recorded run again, uncached; compare outputs
  quiver cache prune [--out DIR] [--keep-runs N]  keep only what the last N runs used (default 3)
  quiver cache prune --store DIR [--older-than AGE] [--nats nats://HOST:PORT]
                                                  remove task requests and replies of distributed runs
                                                  older than AGE (default 7d), and the commits naming them
  quiver export RUN --to DEST [--out DIR] [--with-inputs] [--inputs-from DIR] [--license ID]
                                                  one run (id, id prefix or latest) as a Workflow Run RO-Crate
  quiver report RUN [--out DIR] [--to FILE]     one run as a self-contained HTML page
                                                  (default FILE: DIR/.quiver/runs/RUN_ID/report.html)
  quiver serve [--out DIR]... [--port 8470] [--host 127.0.0.1]
                                                  a local, read-only web view of runs: live progress,
                                                  graphs, previews of outputs (Ctrl-C stops; --port 0: any free port)

Exit codes: 0 ok, 1 failed, 2 invalid workflow or usage.`;

const commands: Record<string, () => Promise<(args: string[]) => Promise<number>>> = {
  validate: async () => (await import('./validate.ts')).validateCommand,
  run: async () => (await import('./run.ts')).runCommand,
  graph: async () => (await import('./graph.ts')).graphCommand,
  inspect: async () => (await import('./inspect.ts')).inspectCommand,
  schedule: async () => (await import('./schedule.ts')).scheduleCommand,
  simulate: async () => (await import('./simulate.ts')).simulateCommand,
  runs: async () => (await import('./runs.ts')).runsCommand,
  rerun: async () => (await import('./rerun.ts')).rerunCommand,
  cache: async () => (await import('./cache.ts')).cacheCommand,
  export: async () => (await import('./export.ts')).exportCommand,
  report: async () => (await import('./report.ts')).reportCommand,
  serve: async () => (await import('./serve.ts')).serveCommand,
  worker: async () => (await import('./worker.ts')).workerCommand,
  'slurm-workers': async () => (await import('./slurm-workers.ts')).slurmWorkersCommand,
};

/** The usage lines of one command (its entry and the lines indented under it). */
function usageOf(name: string): string {
  const entries = usage.split(/\n(?=  quiver )/).filter((entry) => entry.startsWith(`  quiver ${name} `));
  return entries.map((entry) => entry.replace(/\n\nExit codes[\s\S]*/, '')).join('\n');
}

const asksHelp = (args: string[]) => args.some((a) => a === '--help' || a === '-h');

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || (name === 'help' && args.length === 0)) {
    process.stdout.write(usage + '\n');
    return name ? 0 : 2;
  }
  const topic = name === 'help' ? args[0] : name;
  const load = Object.hasOwn(commands, topic) ? commands[topic] : undefined;
  if (!load) {
    process.stderr.write(`quiver: unknown command '${topic}'\n\n${usage}\n`);
    return 2;
  }
  // `quiver help CMD` and `quiver CMD --help`: that command's usage, without loading it.
  if (name === 'help' || asksHelp(args)) {
    process.stdout.write(`${usageOf(topic)}\n\nExit codes: 0 ok, 1 failed, 2 invalid workflow or usage.\n`);
    return 0;
  }
  try {
    return await (await load())(args);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`quiver ${name}: ${message}\n`);
    // A usage error or a project file that cannot be used: nothing ran.
    return error instanceof UsageError || (error as Error)?.name === 'ProjectFileError' ? 2 : 1;
  }
}

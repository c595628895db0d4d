// `quiver run FILE|DIR...`: runs a workflow, or every workflow file under folders and in a list
// (each into its own subfolder of --out, named by its path below the targets' common folder), with
// live progress on a terminal and a summary at the end.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { LocalExecutor } from '../engine/executors/local.ts';
import type { CoordinatorLease } from '../engine/executors/nats-lease.ts';
import { formatProblem, InvalidWorkflowError, runWorkflow } from '../engine/run-workflow.ts';
import { ProgressDisplay } from '../observe/progress.ts';
import { summaryTable, type RunSummary } from '../observe/summary.ts';
import type { Explanation } from '../engine/explain.ts';
import { builtinCatalog } from '../stages/catalog.ts';
import { loadWorkflowFile } from '../workflow/load.ts';
import { projectFileName } from '../workflow/project.ts';
import { parseFlags } from './args.ts';
import { allowPathsWith, projectFlags, projectFor } from './project.ts';
import { UsageError } from './usage-error.ts';

export async function runCommand(args: string[]): Promise<number> {
  const { values, targets } = parseFlags(args, {
    set: { type: 'string', multiple: true },
    out: { type: 'string' },
    workers: { type: 'string' },
    executor: { type: 'string', default: 'local' },
    store: { type: 'string' },
    gpu: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    explain: { type: 'boolean', default: false },
    'allow-path': { type: 'string', multiple: true },
    'worker-memory': { type: 'string' },
    'no-cache': { type: 'boolean', default: false },
    ...projectFlags,
  }, 'workflow files or folders', true);
  const isFolder = (target: string) => statSync(target, { throwIfNoEntry: false })?.isDirectory() ?? false;
  const root = commonFolder(targets.map((t) => (isFolder(t) ? resolve(t) : dirname(resolve(t)))));
  // The project file above the workflows gives the defaults flags leave open (out, workers); each
  // workflow's own project file (the nearest above it) the folders it may read.
  const project = projectFor(root, values, true);
  const outFolder = values.out ?? project?.defaults.out ?? 'out';
  // The project's workers are worker threads here; a distributed run's --workers is tasks in flight.
  const workers = values.workers !== undefined ? Number(values.workers) : values.executor === 'local' ? project?.defaults.workers : undefined;
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 1)) throw new UsageError(`--workers must be a positive whole number, not '${values.workers}'`);
  const distributed = values.executor !== 'local';
  if (distributed && !values.executor!.startsWith('nats://')) throw new UsageError(`--executor is local or a broker URL nats://HOST:PORT, not '${values.executor}'`);
  if (distributed && !values.store) throw new UsageError('--executor nats://... needs --store DIR or s3://bucket/prefix: where the workers keep what they compute');
  if (!distributed && values.store) throw new UsageError('--store is for distributed runs (--executor nats://...)');
  if (!distributed && values.gpu) throw new UsageError('--gpu is for distributed runs (--executor nats://...): it sends model stages to workers started with --caps gpu');
  const folder = targets.length > 1 || isFolder(targets[0]);
  const files = targets.flatMap((target) => {
    if (!isFolder(target)) return [target];
    const found = workflowFiles(target);
    if (found.length === 0) throw new UsageError(`${target} holds no workflow files (*.yaml, *.yml)`);
    return found;
  });

  const summaries: RunSummary[] = [];
  const outs: string[] = []; // each summary's output folder
  let exitCode = 0;
  // One pool for every workflow of a folder: starting worker threads is the slow part of small runs.
  const memoryLimitMb = values['worker-memory'] === undefined ? undefined : Number(values['worker-memory']);
  if (memoryLimitMb !== undefined && !(memoryLimitMb >= 16)) throw new UsageError(`--worker-memory is MiB of heap per worker thread (16 or more), not '${values['worker-memory']}'`);
  // Distributed: --workers bounds the tasks queued or running at once, and the shared store holds
  // the task cache too, so that any coordinator finds what the workers computed.
  const nats = distributed ? await distributedParts() : undefined;
  const executor = nats
    ? await nats.NatsExecutor.connect({ url: values.executor!, store: values.store!, concurrency: workers, gpu: values.gpu })
    : new LocalExecutor({ workers, memoryLimitMb });
  const store = nats ? nats.openStore(values.store!) : undefined;
  // Distributed: a signal stops the run, which takes its queued tasks back from the workers.
  const interrupted = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => interrupted.abort(new Error(`interrupted (${signal})`));
  if (distributed) for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, onSignal);
  try {
    for (const file of files) exitCode = Math.max(exitCode, interrupted.signal.aborted ? 1 : await runOne(file));
  } finally {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.off(signal, onSignal);
    await executor.close();
  }
  if (values.json) process.stdout.write(JSON.stringify(folder ? summaries : summaries[0] ?? null) + '\n');
  else if (folder && summaries.length > 0) process.stdout.write(whereToLook(outFolder, summaries, outs, files.length));
  return exitCode;

  async function runOne(file: string): Promise<number> {
    const out = folder ? join(outFolder, relative(root, resolve(file)).replace(/\.ya?ml$/, '')) : outFolder;
    let allowPaths: string[] | undefined;
    try {
      allowPaths = allowPathsWith(projectFor(file, values), values['allow-path']);
    } catch (error) {
      if ((error as Error).name !== 'ProjectFileError') throw error;
      process.stderr.write(`quiver run ${file}: ${(error as Error).message}\n`);
      return 2;
    }
    let progress: ProgressDisplay | undefined;
    // Distributed: one coordinator per workflow and out folder; a rerun takes a killed one's place.
    let lease: CoordinatorLease | undefined;
    try {
      lease = nats && executor instanceof nats.NatsExecutor ? await executor.lease(nats.runIdentity(file, out)) : undefined;
    } catch (error) {
      if (!nats || !(error instanceof nats.LeaseHeldError)) throw error;
      process.stderr.write(`quiver run ${file}: ${error.message}\n`);
      return 1;
    }
    try {
      const summary = await runWorkflow(file, {
        catalog: builtinCatalog, out, set: values.set, executor, store, noCache: values['no-cache'], allowPaths,
        signal: lease ? AbortSignal.any([interrupted.signal, lease.lost]) : undefined,
        onExplain: values.explain ? (list) => process.stderr.write(explanationText(list)) : undefined,
        onStart: (stats) => {
          if (!process.stderr.isTTY) return;
          if (folder) process.stderr.write(`${file}\n`);
          progress = new ProgressDisplay(stats);
          progress.start();
        },
      });
      progress?.stop();
      summaries.push(summary);
      outs.push(out);
      if (!values.json) process.stdout.write(summaryTable(summary) + '\n\n' + keptModels(summary));
      if (summary.status === 'ok') {
        // What it found; never a reason for the run to fail.
        if (!values.json) await printHeadlines(file, summary.workflow, out).catch((error) => process.stderr.write(`quiver run ${file}: no headlines: ${(error as Error).message}\n`));
        return 0;
      }
      process.stderr.write(`quiver run ${file}: ${summary.error}\n`);
      return 1;
    } catch (error) {
      progress?.stop();
      if (!(error instanceof InvalidWorkflowError)) throw error;
      for (const p of error.problems) process.stderr.write(formatProblem(file, p) + '\n');
      return 2;
    } finally {
      await lease?.release();
    }
  }
}

/** The headline of each result the workflow names (its `results:`), after its summary table. */
async function printHeadlines(file: string, workflow: string, out: string): Promise<void> {
  const { spec } = await loadWorkflowFile(file);
  if (!spec?.results?.some((r) => r.headline)) return;
  const { resultHeadlines } = await import('./headline.ts');
  process.stdout.write((await resultHeadlines(workflow, spec.results, out)).join('\n') + '\n\n');
}

/** Models a run emitted as they were instead of training them (model.train `reuse`), from its log. */
function keptModels(summary: RunSummary): string {
  try {
    const lines = readFileSync(join(dirname(summary.manifest), 'log.jsonl'), 'utf8').split('\n');
    const kept = lines.filter((l) => l.includes('"event":"progress"') && l.includes('"note":"kept ')).map((l) => JSON.parse(l) as { stage: string; note: string });
    return kept.map((k) => `${k.stage}: ${k.note} (not trained again)\n`).join('') + (kept.length ? '\n' : '');
  } catch {
    return ''; // the log is for people; a run without one has nothing to add here
  }
}

/** After several workflows: where their outputs, records and reports are. */
function whereToLook(out: string, summaries: RunSummary[], outs: string[], workflows: number): string {
  const shown = (path: string) => {
    const text = relative(process.cwd(), resolve(path)) || '.';
    return /^[\w./-]+$/.test(text) ? text : JSON.stringify(text);
  };
  const ok = summaries.filter((s) => s.status === 'ok').length;
  return `${ok} of ${workflows} workflows ran; each one's outputs and run record are in its folder under ${shown(out)}/\n` +
    `  all of them, live:  quiver serve --out ${shown(out)}\n` +
    `  one run as a page:  quiver report latest --out ${shown(outs[0])}\n`;
}

/** The deepest folder holding all of `folders`. */
function commonFolder(folders: string[]): string {
  let common = folders[0];
  while (!folders.every((f) => f === common || f.startsWith(common.endsWith(sep) ? common : common + sep))) common = dirname(common);
  return common;
}

/** Workflow files under a folder, in path order (a project file, quiver.yaml, is none). */
function workflowFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name) && e.name !== projectFileName)
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))
    .sort();
}

function explanationText(list: Explanation[]): string {
  if (list.length === 0) return 'nothing to compute: every task is in the cache\n';
  return list.map((e) => `runs  ${e.task}: ${e.reason}\n`).join('');
}

/** What a distributed run needs (NATS client, S3 store), imported only for one. */
async function distributedParts() {
  const [{ NatsExecutor }, { LeaseHeldError, runIdentity }, { openStore }] = await Promise.all([
    import('../engine/executors/nats.ts'), import('../engine/executors/nats-lease.ts'), import('../cache/stores/open-store.ts'),
  ]);
  return { NatsExecutor, LeaseHeldError, runIdentity, openStore };
}

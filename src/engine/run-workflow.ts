// One run, start to end: load and validate the workflow, plan it, run it on an executor, and
// leave the outputs, the log and the run record in the output folder.
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { openRunLog, type Logger } from '../observe/logger.ts';
import { reconcile } from '../observe/reconcile.ts';
import { stageSummaries, type RunSummary } from '../observe/summary.ts';
import { buildManifest, writeManifest } from '../provenance/manifest.ts';
import type { WorkflowBuilder } from '../workflow/builder.ts';
import type { StageCatalog } from '../workflow/catalog.ts';
import { messageOf } from '../workflow/errors.ts';
import { loadWorkflowFile } from '../workflow/load.ts';
import type { OutputRecord } from '../workflow/stage.ts';
import type { Problem, WorkflowSource, WorkflowSpec } from '../workflow/types.ts';
import { validateWorkflow, type ResolvedWorkflow } from '../workflow/validate.ts';
import { LocalExecutor } from './executors/local.ts';
import { Runner } from './runner.ts';
import { decideTasks, type TaskDecisions } from './decide.ts';
import { explainTasks, type Explanation } from './explain.ts';
import { changeSince, hashInputFiles, type InputStamp } from '../cache/input-hashes.ts';
import { MAX_PARTITIONS } from '../io/limits.ts';
import { workflowKeys } from './keys.ts';
import type { Store } from '../cache/store.ts';
import { FsStore } from '../cache/stores/fs.ts';
import type { Manifest } from '../provenance/manifest.ts';
import { latestManifest } from '../provenance/runs.ts';
import { claimOutFolder } from './out-folder.ts';
import { planWorkflow, segmentMembers, type Plan } from './plan.ts';
import { Privacy } from './privacy.ts';
import { emptyStats, type StageStats } from '../provenance/stage-stats.ts';
import type { Executor } from './task.ts';
import { isS3 } from '../workflow/s3-url.ts';

export interface RunWorkflowOptions {
  catalog: StageCatalog;
  /** Output folder (default ./out). */
  out?: string;
  /** `key=value` param overrides. */
  set?: string[];
  /** Worker threads for the local executor (default: one per core). */
  workers?: number;
  /** Run elsewhere (e.g. a distributed executor); the caller closes it. */
  executor?: Executor;
  /** Bytes each edge may hold before its producer waits (default 16 MiB). */
  edgeBudgetBytes?: number;
  /** Bytes of task requests and results each segment may have in flight beyond one per worker (default 64 MiB). */
  windowBytes?: number;
  /** Folders outside the workflow's own that it may read (the output folder always may be). */
  allowPaths?: string[];
  /** Where the task cache is kept (default: a folder store in OUT/.quiver/cache). */
  store?: Store;
  /** Neither read nor fill the task cache: compute everything. */
  noCache?: boolean;
  /** Called before running with why each task that is computed runs (see explain.ts). */
  onExplain?: (explanations: Explanation[]) => void;
  /** Called once the run starts, with a live view of per-stage progress. */
  onStart?: (stats: () => StageStats[]) => void;
  signal?: AbortSignal;
}

/** The workflow has problems; nothing was run. */
export class InvalidWorkflowError extends Error {
  constructor(readonly file: string, readonly problems: Problem[]) {
    super(problems.map((p) => formatProblem(file, p)).join('\n'));
  }
}

export function formatProblem(file: string, problem: Problem): string {
  return `${file}${problem.line ? `:${problem.line}` : ''}: ${problem.message}`;
}

export type WorkflowInput = string | WorkflowBuilder | { spec: WorkflowSpec; source: WorkflowSource };

/** Loads and validates; throws InvalidWorkflowError listing every problem. */
export async function resolveWorkflow(input: WorkflowInput, options: { catalog: StageCatalog; set?: string[]; allowPaths?: string[]; out?: string }): Promise<ResolvedWorkflow> {
  let spec: WorkflowSpec | undefined;
  let source: WorkflowSource;
  if (typeof input === 'string') {
    const loaded = await loadWorkflowFile(input);
    if (!loaded.spec) throw new InvalidWorkflowError(input, loaded.problems);
    ({ spec, source } = loaded as { spec: WorkflowSpec; source: WorkflowSource });
  } else {
    ({ spec, source } = input);
  }
  const { workflow, problems } = await validateWorkflow(spec, source, options);
  if (!workflow) throw new InvalidWorkflowError(source.file, problems);
  // Every partition becomes tasks and records planned in memory: a glob of millions of files must
  // stop here with a sentence, not later out of heap.
  const crowded = workflow.stages.filter((s) => (s.partitions?.length ?? 0) > MAX_PARTITIONS).map((s) => ({
    stage: s.id, line: source.stageLines[spec!.stages.findIndex((t) => t.id === s.id)],
    message: `stage '${s.id}' (${s.spec.use}) finds ${s.partitions!.length} partitions, more than the ${MAX_PARTITIONS} one source may have: match fewer files`,
  }));
  if (crowded.length > 0) throw new InvalidWorkflowError(source.file, crowded);
  return workflow;
}

export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

export async function runWorkflow(input: WorkflowInput, options: RunWorkflowOptions): Promise<RunSummary> {
  const outDir = resolve(options.out ?? 'out');
  const workflow = await resolveWorkflow(input, { ...options, out: outDir, allowPaths: [...(options.allowPaths ?? []), outDir] });
  const startedAt = new Date();
  const runId = newRunId(startedAt);
  const release = await claimOutFolder(outDir, runId);
  try {
    return await runClaimed(workflow, outDir, runId, startedAt, options);
  } finally {
    await release();
  }
}

async function runClaimed(workflow: ResolvedWorkflow, outDir: string, runId: string, startedAt: Date, options: RunWorkflowOptions): Promise<RunSummary> {
  const runDir = join(outDir, '.quiver', 'runs', runId);
  const previous = latestManifest(outDir);
  // Built once: every line, error and quarantined row the run writes down passes through it.
  const privacy = Privacy.of(workflow);
  const { log, close: closeLog } = openRunLog(join(runDir, 'log.jsonl'), privacy);
  const cacheDir = join(outDir, '.quiver', 'cache');
  const store = options.noCache ? undefined : options.store ?? new FsStore(cacheDir);
  const executor = options.executor ?? new LocalExecutor({ workers: options.workers });
  let inputHashes = new Map<string, string>();
  const inputStamps = new Map<string, InputStamp>();
  let plan: Plan | undefined;
  let tasks: TaskDecisions | undefined;
  let runner: Runner | undefined;
  let outputs: OutputRecord[] = [];
  let error: string | undefined;
  let statsLine: StatsLine | undefined;
  try {
    // Inside the try: an input that vanished since discovery fails the run, with its record.
    const files = workflow.stages.flatMap((s) => (s.partitions ?? []).flatMap((p) => (p.file ? [p.file] : [])));
    inputHashes = await hashInputFiles(files, options.noCache ? undefined : join(cacheDir, 'inputs'), inputStamps);
    plan = planWorkflow(workflow);
    tasks = await decideTasks(plan, workflowKeys(workflow, (file) => inputHashes.get(file)!), store);
    const explanations = explainTasks(plan, tasks, previous, (file) => inputHashes.get(file));
    logReasons(log, explanations);
    options.onExplain?.(explanations.map((e) => ({ task: privacy.text(e.task), reason: privacy.text(e.reason) })));
    // The stages and their edges, so a live view can draw the graph before the record exists.
    const stageList = workflow.stages.map((s) => ({ id: s.id, use: s.spec.use, kind: s.stage.kind, from: s.inputs }));
    log.info({ event: 'run-start', runId, workflow: workflow.spec.name, params: workflow.redactor.value(workflow.params), workers: executor.concurrency, computed: explanations.length, stages: stageList }, 'run started');
    for (const s of workflow.stages) {
      if (s.stage.kind === 'source') {
        log.info({ event: 'source', stage: s.id, partitions: s.partitions?.length, schema: s.schema.fields.map((f) => `${f.name}: ${f.type}`) }, 'source discovered');
      }
    }
    const running = new Runner(plan, {
      executor, tasks, outDir, log, privacy, tempDir: join(outDir, '.quiver', 'tmp', runId), signal: options.signal, edgeBudgetBytes: options.edgeBudgetBytes, windowBytes: options.windowBytes, inputStamps,
    });
    runner = running;
    options.onStart?.(() => [...running.stats.values()]);
    statsLine = new StatsLine(log, () => [...running.stats.values()]);
    outputs = (await running.run()).outputs;
  } catch (failure) {
    error = privacy.text(messageOf(failure));
    log.error({ event: 'run-failed', error }, 'run failed');
  } finally {
    statsLine?.stop();
    if (!options.executor) await executor.close();
  }
  const endedAt = new Date();
  let status: 'ok' | 'failed' = error === undefined ? 'ok' : 'failed';
  // A file written to during the run is not recorded under the hash it had before.
  const changedInputs = new Set([...inputStamps].filter(([file, stamp]) => changeSince(file, stamp)).map(([file]) => file));
  const stats = runner ? [...runner.stats.values()] : workflow.stages.map((s) => emptyStats(s.id, s.spec.use, s.stage.kind));
  const manifestPath = join(runDir, 'manifest.json');
  const recordError = await writeManifest(manifestPath, buildManifest({
    runId, status, error, startedAt, endedAt, outDir, workflow, stats, outputs,
    executor: { kind: executor.constructor.name, workers: executor.concurrency },
    inputHashes, changedInputs, inputStamps, tasks: plan && tasks ? taskList(plan, tasks) : [], cache: !!store, allowPaths: (options.allowPaths ?? []).map((p) => (isS3(p) ? p : resolve(p))),
  })).then(() => undefined, messageOf);
  // No room for the record (a full, read-only or vanished disk): the run fails, saying so.
  if (recordError) [status, error] = ['failed', error === undefined ? recordError : `${error} (the run record could not be written either)`];
  log.info({ event: 'run-end', status, seconds: (endedAt.getTime() - startedAt.getTime()) / 1000 }, 'run ended');
  await closeLog();
  return {
    runId,
    workflow: workflow.spec.name,
    status,
    stages: stageSummaries(stats),
    ...(status === 'ok' ? { unaccounted: reconcile(workflow, stats) } : {}),
    outputs: outputs.map((o) => o.path),
    manifest: manifestPath,
    seconds: (endedAt.getTime() - startedAt.getTime()) / 1000,
    ...(error !== undefined ? { error } : {}),
  };
}

/**
 * `{event: 'stats', stages: [...]}` lines in the run's log, for views that follow a run as it goes
 * (`quiver serve`): at most one a second and only when a count changed, and a last one at the end.
 * A run shorter than a second writes only the last.
 */
class StatsLine {
  private last = '';
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly log: Logger, private readonly stats: () => StageStats[], intervalMs = 1000) {
    this.timer = setInterval(() => this.write(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.write();
  }

  private write(): void {
    const stages = this.stats().map((s) => ({
      id: s.id, tasks: s.tasks, ...(s.tasksTotal !== undefined ? { tasksTotal: s.tasksTotal } : {}),
      cached: s.cached, rowsIn: s.rowsIn, rowsOut: s.rowsOut, quarantined: s.quarantined,
    }));
    const text = JSON.stringify(stages);
    if (text === this.last) return;
    this.last = text;
    this.log.info({ event: 'stats', stages }, 'stage counts');
  }
}

/** Tasks whose reason is logged one by one; past that, counts per reason (a run may have 100,000 tasks). */
const reasonsLogged = 1000;

function logReasons(log: Logger, explanations: Explanation[]): void {
  for (const e of explanations.slice(0, reasonsLogged)) log.info({ event: 'task-reason', task: e.task, reason: e.reason }, 'task runs');
  if (explanations.length <= reasonsLogged) return;
  const counts: Record<string, number> = {};
  for (const e of explanations.slice(reasonsLogged)) counts[e.reason] = (counts[e.reason] ?? 0) + 1;
  log.info({ event: 'task-reasons-more', tasks: explanations.length - reasonsLogged, reasons: counts }, 'more tasks run');
}

/** Every task with its key and what this run did with it, for the run record. */
function taskList(plan: Plan, tasks: TaskDecisions): Manifest['tasks'] {
  const list: Manifest['tasks'] = [];
  for (const node of plan.nodes) {
    if (node.kind === 'sink') {
      const parts = tasks.restorableParts.get(node.id);
      if (parts) {
        const names = tasks.keys.stages.get(node.stage.inputs[0])!.names;
        tasks.keys.sinkPartitions.get(node.id)!.forEach((key, j) =>
          list.push({ stage: node.id, partition: names[j], key, status: parts[j] ? 'cached' : 'computed' }));
      } else {
        list.push({ stage: node.id, partition: '*', key: tasks.keys.sinks.get(node.id)!, status: tasks.restorable.has(node.id) ? 'cached' : 'computed' });
      }
      continue;
    }
    const decisions = tasks.nodes.get(node.id)!;
    const members = node.kind === 'segment' ? segmentMembers(node) : [node.id];
    for (const id of members) {
      const { keys, names } = tasks.keys.stages.get(id)!;
      decisions.forEach((d, j) => list.push({
        stage: id, partition: names[j], key: keys[j], status: d === 'compute' ? 'computed' : d === 'replay' ? 'cached' : 'skipped',
      }));
    }
  }
  return list;
}


// Checks a workflow before any data is read: ids, `use`, `from`, cycles, params, and the Arrow
// schema on every edge. Every problem becomes one sentence naming the stage (and line).
import { resolve } from 'node:path';
import type { Schema } from 'apache-arrow';
import { StageCatalog } from './catalog.ts';
import { outOverlap, pathOutside, readRoots, realPathOutside } from './paths.ts';
import { ColumnTypeError, MissingColumnError, messageOf } from './errors.ts';
import { findCycle, topologicalOrder } from './graph.ts';
import { describeIssue } from './load.ts';
import { scheduleProblems } from '../schedule/cron.ts';
import { applyOverrides, substitute } from './params.ts';
import { Redactor } from './secrets.ts';
import type { SourcePartition, Stage } from './stage.ts';
import { inputsOf, type ParamValue, type Problem, type StageSpec, type WorkflowSource, type WorkflowSpec } from './types.ts';

export interface ResolvedStage {
  id: string;
  spec: StageSpec;
  stage: Stage;
  /** Params after `${params.x}` substitution and the stage's own parsing (defaults filled in). */
  params: unknown;
  inputs: string[];
  /** The stage's output schema; for a sink, the schema it receives. */
  schema: Schema;
  /** Sources only: the partitions found while discovering the schema. */
  partitions?: SourcePartition[];
}

export interface ResolvedWorkflow {
  spec: WorkflowSpec;
  source: WorkflowSource;
  params: Record<string, ParamValue>;
  /** In topological order. */
  stages: ResolvedStage[];
  byId: Map<string, ResolvedStage>;
  /** The catalog its stages were found in: workers find them there again. */
  catalog: StageCatalog;
  /** Replaces the values of secret params wherever the run writes something down (secrets.ts). */
  redactor: Redactor;
}

export interface ValidateOptions {
  catalog: StageCatalog;
  /** `key=value` param overrides. */
  set?: string[];
  /** Check structure and params only: no source discovery, no schemas (for `quiver graph`). */
  structureOnly?: boolean;
  /** Folders outside the workflow's own that it may read (--allow-path), besides the output folder. */
  allowPaths?: string[];
  /** The output folder: what `${out}` stands for (default ./out). */
  out?: string;
}

export async function validateWorkflow(
  spec: WorkflowSpec,
  source: WorkflowSource,
  options: ValidateOptions,
): Promise<{ workflow?: ResolvedWorkflow; problems: Problem[] }> {
  const problems: Problem[] = [];
  let params: Record<string, ParamValue> = spec.params ?? {};
  try {
    params = applyOverrides(params, options.set ?? []);
  } catch (error) {
    problems.push({ message: messageOf(error) });
  }
  const redactor = Redactor.fromParams(params, spec.params ?? {});
  const { workflow } = await check(spec, source, options, params, redactor, problems);
  // Problems quote substituted params (an expression holding a password): secrets go first.
  return { workflow, problems: problems.map((p) => ({ ...p, message: redactor.text(p.message) })) };
}

async function check(
  spec: WorkflowSpec,
  source: WorkflowSource,
  options: ValidateOptions,
  params: Record<string, ParamValue>,
  redactor: Redactor,
  problems: Problem[],
): Promise<{ workflow?: ResolvedWorkflow }> {
  const lineOf = new Map(spec.stages.map((s, i) => [s.id, source.stageLines[i]]));
  const report = (stage: string | undefined, message: string) =>
    problems.push({ stage, line: stage ? lineOf.get(stage) : undefined, message });

  const ids = new Set<string>();
  for (const [i, s] of spec.stages.entries()) {
    if (ids.has(s.id)) problems.push({ stage: s.id, line: source.stageLines[i], message: `stage id '${s.id}' is used more than once` });
    ids.add(s.id);
  }
  if (spec.schedule) for (const message of scheduleProblems(spec.schedule)) report(undefined, message);

  const out = resolve(options.out ?? 'out'); // what `${out}` stands for; always readable
  const allowed = [...(options.allowPaths ?? []), out];
  const roots = readRoots(source.baseDir, allowed);
  const stages = new Map<string, Stage>();
  await Promise.all(spec.stages.map(async (s) => {
    // Before the import: importing a stage file runs its code, even for `quiver validate` or `graph`.
    const refused = stageFileRefused(s.use, source.baseDir, allowed, roots);
    if (refused) return report(s.id, `stage '${s.id}': stage file ${refused}`);
    try {
      stages.set(s.id, await options.catalog.resolve(s.use, source.baseDir));
    } catch (error) {
      report(s.id, `stage '${s.id}': ${messageOf(error)}`);
    }
  }));

  for (const s of spec.stages) {
    const stage = stages.get(s.id);
    const inputs = inputsOf(s);
    for (const input of inputs) {
      if (!ids.has(input)) report(s.id, `stage '${s.id}': 'from' names '${input}', which is not a stage id (ids: ${[...ids].join(', ')})`);
      else if (stages.get(input)?.kind === 'sink') report(s.id, `stage '${s.id}': 'from' names '${input}', a sink, which has no output`);
    }
    if (!stage) continue;
    if ((stage.kind === 'reduce' || stage.kind === 'sink') && (s.retries !== undefined || s.timeout !== undefined || s.onError !== undefined)) {
      report(s.id, `stage '${s.id}' (${s.use}): retries, timeout and onError apply to source and map stages, which run in worker threads; a ${stage.kind} runs on the main thread`);
    }
    const { min, max } = stage.inputs ?? (stage.kind === 'source' ? { min: 0, max: 0 } : { min: 1, max: 1 });
    if (inputs.length < min || inputs.length > max) {
      const expected = max === 0 ? "no 'from'" : min === max ? `${min} input${min > 1 ? 's' : ''} in 'from'` : `${min} to ${max === Infinity ? 'any number of' : max} inputs in 'from'`;
      const what = inputs.length === 0 ? "'from' is missing" : `'from' has ${inputs.length}`;
      report(s.id, `stage '${s.id}' (${s.use}) takes ${expected}, but ${what}`);
    }
  }

  const cycle = findCycle(spec.stages.filter((s) => ids.has(s.id)));
  if (cycle) report(cycle[0], `the stages form a cycle: ${cycle.join(' -> ')}`);

  const parsedParams = new Map<string, unknown>();
  for (const s of spec.stages) {
    const stage = stages.get(s.id);
    if (!stage) continue;
    const raw = substitute(s.with ?? {}, params, (name) =>
      report(s.id, `stage '${s.id}': '\${params.${name}}' names no param (params: ${Object.keys(params).join(', ') || 'none'})`), out);
    const parsed = stage.params.safeParse(raw, { reportInput: true });
    const path = (parsed.data as { path?: unknown } | undefined)?.path;
    const outside = stage.kind === 'source' && typeof path === 'string' && !options.structureOnly ? pathOutside(path, source.baseDir, allowed) : undefined;
    const readOutside = parsed.success && !options.structureOnly ? readsOutside(stage, parsed.data, source.baseDir, allowed, roots) : undefined;
    if (outside) report(s.id, `stage '${s.id}' (${s.use}): path ${outside}`);
    else if (readOutside) report(s.id, `stage '${s.id}' (${s.use}): ${readOutside}`);
    else if (parsed.success) parsedParams.set(s.id, parsed.data);
    else for (const issue of parsed.error.issues) report(s.id, `stage '${s.id}' (${s.use}): ${describeIssue(issue, issue.path.join('.'))}${got(issue)}`);
  }

  if (problems.length > 0 || options.structureOnly) return {};
  const resolved = await resolveSchemas(spec, source, params, stages, parsedParams, report, problems, options.catalog, redactor, roots);
  for (const s of resolved.workflow?.stages ?? []) {
    const path = (s.params as { path?: unknown }).path;
    // A source that names `${out}` reads the previous run's outputs on purpose (a forecast record).
    if (s.stage.kind !== 'source' || typeof path !== 'string' || String(s.spec.with?.path).includes('${out}')) continue;
    const overlap = outOverlap(out, path, source.baseDir, (s.partitions ?? []).flatMap((p) => (p.file ? [p.file] : [])));
    if (overlap) report(s.id, `stage '${s.id}' (${s.spec.use}): ${overlap}`);
  }
  return problems.length > 0 ? {} : resolved;
}

/** Why a file a stage reads besides a source's `path` (Stage.reads) may not be read, or undefined. */
function readsOutside(stage: Stage, params: unknown, baseDir: string, allowed: string[], roots: string[]): string | undefined {
  for (const file of stage.reads?.(params) ?? []) {
    const refused = pathOutside(file, baseDir, allowed) ?? realPathOutside(resolve(baseDir, file), file, roots);
    if (refused) return refused;
  }
  return undefined;
}

/** Why the stage file `use` names may not be imported, or undefined (also for a built-in name). */
function stageFileRefused(use: string, baseDir: string, allowed: string[], roots: string[]): string | undefined {
  const file = use.split('#')[0];
  if (file.startsWith('file:')) return `'${file}' is a URL; give a path relative to the workflow file (./stages.ts#name)`;
  if (!StageCatalog.isFileReference(use)) return undefined;
  return pathOutside(file, baseDir, allowed) ?? realPathOutside(StageCatalog.stageFile(use, baseDir), file, roots);
}

function got(issue: { code: string; input?: unknown }): string {
  if (issue.code !== 'invalid_type' && issue.code !== 'invalid_value' && issue.code !== 'too_small' && issue.code !== 'too_big') return '';
  return issue.input === undefined ? '' : ` (got ${JSON.stringify(issue.input)})`;
}

async function resolveSchemas(
  spec: WorkflowSpec,
  source: WorkflowSource,
  params: Record<string, ParamValue>,
  stages: Map<string, Stage>,
  parsedParams: Map<string, unknown>,
  report: (stage: string | undefined, message: string) => void,
  problems: Problem[],
  catalog: StageCatalog,
  redactor: Redactor,
  roots: string[],
): Promise<{ workflow?: ResolvedWorkflow }> {
  const specs = new Map(spec.stages.map((s) => [s.id, s]));
  const resolved = new Map<string, ResolvedStage>();
  const order = topologicalOrder(spec.stages);
  // Sources discover in parallel (file listing and metadata only).
  const discovered = new Map<string, Awaited<ReturnType<Extract<Stage, { kind: 'source' }>['discover']>>>();
  await Promise.all(order.map(async (id) => {
    const stage = stages.get(id)!;
    if (stage.kind !== 'source') return;
    try {
      discovered.set(id, await stage.discover(parsedParams.get(id), { baseDir: source.baseDir, readRoots: roots, onError: specs.get(id)!.onError }));
    } catch (error) {
      report(id, `stage '${id}' (${stage.name}): ${messageOf(error)}`);
    }
  }));

  for (const id of order) {
    const s = specs.get(id)!;
    const stage = stages.get(id)!;
    const params = parsedParams.get(id);
    const inputs = inputsOf(s);
    const upstream = inputs.map((i) => resolved.get(i));
    if (upstream.some((u) => !u)) continue; // an input already failed; its problem is reported
    const inputSchemas = upstream.map((u) => u!.schema);
    try {
      let schema: Schema;
      let partitions: SourcePartition[] | undefined;
      if (stage.kind === 'source') {
        const found = discovered.get(id);
        if (!found) continue;
        ({ schema, partitions } = found);
      } else if (stage.kind === 'sink') {
        stage.check?.({ params, inputs: inputSchemas, baseDir: source.baseDir });
        schema = inputSchemas[0];
      } else {
        schema = stage.outputSchema({ params, inputs: inputSchemas, baseDir: source.baseDir });
      }
      resolved.set(id, { id, spec: s, stage, params, inputs, schema, partitions });
    } catch (error) {
      report(id, edgeMessage(id, s.use, inputs, error));
    }
  }
  if (problems.length > 0) return {};
  const ordered = order.map((id) => resolved.get(id)!);
  return { workflow: { spec, source, params, stages: ordered, byId: resolved, catalog, redactor } };
}

/** Names both ends of the edge for column problems. */
function edgeMessage(id: string, use: string, inputs: string[], error: unknown): string {
  if (error instanceof ColumnTypeError) {
    return `stage '${id}' (${use}) cannot take column '${error.column}' from stage '${inputs[error.input]}': it is ${error.actual}, but '${id}' needs ${error.expected}`;
  }
  if (error instanceof MissingColumnError) {
    return `stage '${id}' (${use}) needs column '${error.column}', which stage '${inputs[error.input]}' does not give (it gives: ${error.available.join(', ') || 'no columns'})`;
  }
  return `stage '${id}' (${use}): ${messageOf(error)}`;
}

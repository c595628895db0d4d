// A run record as an RO-Crate 1.1 folder that conforms to the Workflow Run Crate profile 0.5
// (https://w3id.org/ro/wfrun/workflow/0.5, which builds on Process Run Crate 0.5 and Workflow
// RO-Crate 1.0): the workflow file as the crate's main entity, one CreateAction for the run
// (instrument = workflow, object = inputs and param values, result = outputs), the outputs
// themselves with their sha256, and the manifest and log as the engine's own traces.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { copyFile, link, mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, posix, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { sha256OfFile } from '../io/file-hash.ts';
import type { Manifest } from './manifest.ts';
import type { RunRecord } from './runs.ts';

export const profiles = {
  crate: 'https://w3id.org/ro/crate/1.1',
  processRun: 'https://w3id.org/ro/wfrun/process/0.5',
  workflowRun: 'https://w3id.org/ro/wfrun/workflow/0.5',
  workflowCrate: 'https://w3id.org/workflowhub/workflow-ro-crate/1.0',
};
// The workflow-run context maps `sha256`, which the RO-Crate 1.1 context lacks.
export const crateContext = ['https://w3id.org/ro/crate/1.1/context', 'https://w3id.org/ro/terms/workflow-run/context'];

export interface ExportOptions {
  /** Copy input files into the crate (under inputs/); otherwise they are described, not included. */
  withInputs?: boolean;
  /** Folder relative input paths resolve against (default: the recorded workflow file's folder). */
  inputsBaseDir?: string;
  /** An SPDX id (CC-BY-4.0) or a URL; Workflow RO-Crate asks for a license. */
  license?: string;
}

export interface ExportResult {
  dest: string;
  /** Entities in the crate's @graph. */
  entities: number;
  /** Files written under dest, relative to it. */
  files: string[];
  /** Outputs that could not be included, one sentence each. */
  warnings: string[];
}

type Entity = { '@id': string; '@type': string | string[]; [key: string]: unknown };
const ref = (id: string) => ({ '@id': id });

/** Writes the crate for one recorded run into `dest`, which must be absent or empty. */
export async function exportRunCrate(record: RunRecord, dest: string, options: ExportOptions = {}): Promise<ExportResult> {
  const m = record.manifest;
  const outDir = resolve(record.dir, '..', '..', '..'); // OUT/.quiver/runs/RUN_ID
  if (existsSync(dest) && readdirSync(dest).length > 0) throw new Error(`${dest} is not empty; export into a new folder`);
  await mkdir(dest, { recursive: true });
  const files: string[] = [];
  const warnings: string[] = [];
  const taken = new Set<string>(['ro-crate-metadata.json']);
  const place = (wanted: string) => claim(taken, wanted);

  // The workflow, exactly as the run read it.
  const workflowPath = place(workflowFileName(m));
  await writeFile(join(dest, workflowPath), m.workflow.text);
  files.push(workflowPath);

  const graph: Entity[] = [];
  const hasPart: string[] = [workflowPath];
  const actionId = `#run-${m.runId}`;

  // Outputs: included only when the file in OUT still has the recorded bytes (a later run into the
  // same folder replaces them).
  const results: string[] = [];
  for (const [i, o] of (m.outputs ?? []).entries()) {
    const source = join(outDir, o.path);
    const actual = existsSync(source) ? await sha256OfFile(source) : undefined;
    if (actual === o.sha256) {
      const path = place(`outputs/${safeRelative(o.path)}`);
      await linkOrCopy(source, join(dest, path));
      files.push(path);
      hasPart.push(path);
      graph.push({ '@id': encodePath(path), '@type': 'File', name: o.path, alternateName: o.path, contentSize: String(o.bytes), sha256: o.sha256, ...format(o.path) });
      results.push(encodePath(path));
    } else {
      const why = actual ? 'has changed since the run' : 'is gone';
      warnings.push(`output ${o.path} ${why}: described in the crate with its recorded sha256, not included`);
      const id = `#output-${i + 1}`;
      graph.push({ '@id': id, '@type': 'CreativeWork', name: o.path, description: `Output of run ${m.runId}; not included: the file ${why}.`, contentSize: String(o.bytes), sha256: o.sha256, ...format(o.path) });
      results.push(id);
    }
  }

  // Inputs: one entity per file, however many stages read it.
  const objects: string[] = [];
  const baseDir = options.inputsBaseDir ?? workflowDir(m);
  const seen = new Set<string>();
  for (const input of m.inputs ?? []) {
    if (seen.has(input.path)) continue;
    seen.add(input.path);
    const recorded = (input as { sha256?: string }).sha256;
    const described = { name: input.path, alternateName: input.path, ...(input.bytes !== undefined ? { contentSize: String(input.bytes) } : {}), ...(input.modified ? { dateModified: input.modified } : {}), ...format(input.path) };
    // An S3 input is described by its URL and ETag: copying it would mean reading the object whole.
    if (options.withInputs && !input.etag) {
      const source = resolve(baseDir, input.path);
      if (!existsSync(source)) throw new Error(`input ${input.path} is not at ${source}; pass the folder it is relative to, or export without inputs`);
      const sha256 = await sha256OfFile(source);
      const bytes = statSync(source).size;
      if ((recorded && recorded !== sha256) || (input.bytes !== undefined && input.bytes !== bytes)) {
        throw new Error(`input ${source} has changed since run ${m.runId} read it; export without inputs to describe it as recorded`);
      }
      const path = place(`inputs/${safeRelative(input.path)}`);
      await linkOrCopy(source, join(dest, path));
      files.push(path);
      hasPart.push(path);
      graph.push({ '@id': encodePath(path), '@type': 'File', ...described, contentSize: String(bytes), sha256 });
      objects.push(encodePath(path));
    } else {
      // Not in the crate, so not a data entity: a contextual entity naming the file as the run saw it.
      const id = `#input-${seen.size}`;
      graph.push({ '@id': id, '@type': 'CreativeWork', ...described, description: input.etag
        ? `Input read by stage '${input.stage}' from S3 (ETag ${input.etag}${input.versionId ? `, version ${input.versionId}` : ''}); not included in the crate.`
        : `Input read by stage '${input.stage}' (path relative to the workflow file); not included in the crate.`, ...(recorded ? { sha256: recorded } : {}) });
      objects.push(id);
    }
  }

  // Params: a FormalParameter per slot on the workflow, a PropertyValue per resolved value on the run.
  const { description, defaults } = workflowText(m.workflow.text);
  const paramIds: string[] = [];
  for (const [name, value] of Object.entries(m.params ?? {})) {
    const slot = `#param-${encodeURIComponent(name)}`;
    const pv = `#param-value-${encodeURIComponent(name)}`;
    paramIds.push(slot);
    graph.push({ '@id': slot, '@type': 'FormalParameter', name, additionalType: dataType(value), ...(name in defaults ? { defaultValue: plain(defaults[name]) } : {}), workExample: ref(pv) });
    graph.push({ '@id': pv, '@type': 'PropertyValue', name, value: plain(value), exampleOfWork: ref(slot) });
    objects.push(pv);
  }

  // The engine's own records of the run.
  for (const [name, wanted, encodingFormat, title] of [
    ['manifest.json', 'run/manifest.json', 'application/json', 'quiver run record (manifest)'],
    ['log.jsonl', 'run/log.jsonl', 'application/x-ndjson', 'quiver run log (JSON lines)'],
  ] as const) {
    const source = join(record.dir, name);
    if (!existsSync(source)) continue;
    const path = place(wanted);
    await mkdir(dirname(join(dest, path)), { recursive: true });
    await copyFile(source, join(dest, path));
    files.push(path);
    hasPart.push(path);
    graph.push({ '@id': encodePath(path), '@type': 'File', name: title, encodingFormat, contentSize: String(statSync(source).size), about: ref(actionId) });
  }

  const quiverId = `#quiver-${m.runtime.quiver}`;
  const nodeId = `#nodejs-${m.runtime.node}`;
  const packages: Entity[] = Object.entries(m.packages ?? {}).map(([name, version]) => ({
    '@id': `https://www.npmjs.com/package/${name}/v/${version}`, '@type': 'SoftwareApplication', name, url: `https://www.npmjs.com/package/${name}`, softwareVersion: version,
  }));
  const license = licenseEntity(options.license);
  const failed = m.status === 'failed';
  const workflowName = m.workflow.name;

  graph.unshift(
    { '@id': 'ro-crate-metadata.json', '@type': 'CreativeWork', about: ref('./'), conformsTo: [ref(profiles.crate), ref(profiles.workflowCrate)] },
    {
      '@id': './', '@type': 'Dataset',
      name: `quiver run ${m.runId} of workflow ${workflowName}`,
      description: `Run ${m.runId} of the quiver workflow '${workflowName}' (${m.status}): the workflow, its outputs and the run record.`,
      datePublished: new Date().toISOString(),
      license: ref(license['@id']),
      conformsTo: [ref(profiles.processRun), ref(profiles.workflowRun), ref(profiles.workflowCrate)],
      mainEntity: ref(encodePath(workflowPath)),
      hasPart: hasPart.map((p) => ref(encodePath(p))),
      mentions: [ref(actionId), ref(`#engine-run-${m.runId}`)],
    },
    { '@id': profiles.processRun, '@type': 'CreativeWork', name: 'Process Run Crate', version: '0.5' },
    { '@id': profiles.workflowRun, '@type': 'CreativeWork', name: 'Workflow Run Crate', version: '0.5' },
    { '@id': profiles.workflowCrate, '@type': 'CreativeWork', name: 'Workflow RO-Crate', version: '1.0' },
    license,
    {
      '@id': encodePath(workflowPath), '@type': ['File', 'SoftwareSourceCode', 'ComputationalWorkflow'],
      name: workflowName,
      ...(description ? { description } : {}),
      alternateName: m.workflow.file,
      programmingLanguage: ref('#quiver-workflow-yaml'),
      encodingFormat: 'application/yaml',
      contentSize: String(Buffer.byteLength(m.workflow.text)),
      sha256: m.workflow.sha256,
      input: paramIds.map(ref),
    },
    {
      '@id': '#quiver-workflow-yaml', '@type': 'ComputerLanguage', name: 'quiver workflow YAML', alternateName: 'quiver',
      version: m.runtime.quiver, description: 'A quiver workflow file: a DAG of stages in YAML, run by the quiver engine.',
    },
    {
      '@id': actionId, '@type': 'CreateAction',
      name: `Run ${m.runId} of ${workflowName}`,
      description: `quiver ${m.runtime.quiver} ran ${m.workflow.file} with ${m.executor.kind} (${m.executor.workers} workers) on ${m.runtime.platform} ${m.runtime.arch}, ${m.runtime.cpus} × ${m.runtime.cpu}.`,
      instrument: ref(encodePath(workflowPath)),
      object: objects.map(ref),
      result: results.map(ref),
      startTime: m.startedAt,
      endTime: m.endedAt,
      actionStatus: ref(failed ? 'http://schema.org/FailedActionStatus' : 'http://schema.org/CompletedActionStatus'),
      ...(failed && m.error ? { error: m.error } : {}),
    },
    // The engine that carried the run out, as Provenance Run Crate describes it.
    { '@id': `#engine-run-${m.runId}`, '@type': 'OrganizeAction', name: `quiver orchestrating run ${m.runId}`, instrument: ref(quiverId), result: ref(actionId), startTime: m.startedAt, endTime: m.endedAt },
    {
      '@id': quiverId, '@type': 'SoftwareApplication', name: 'quiver', softwareVersion: m.runtime.quiver,
      description: 'Arrow-native workflow engine for scientific data',
      softwareRequirements: [ref(nodeId), ...packages.map((p) => ref(p['@id']))],
    },
    { '@id': nodeId, '@type': 'SoftwareApplication', name: 'Node.js', url: 'https://nodejs.org/', softwareVersion: m.runtime.node },
    ...packages,
  );

  const metadata = { '@context': crateContext, '@graph': graph.map(dropEmpty) };
  await writeFile(join(dest, 'ro-crate-metadata.json'), JSON.stringify(metadata, null, 2) + '\n');
  return { dest, entities: graph.length, files: ['ro-crate-metadata.json', ...files], warnings };
}

/** A hard link costs no space; across file systems it cannot be made, so copy. */
async function linkOrCopy(source: string, target: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  await link(source, target).catch(() => copyFile(source, target));
}

/** `../../data/x.csv` → `data/x.csv`: a path that stays inside the crate. */
export function safeRelative(path: string): string {
  const parts = posix.normalize(path.replaceAll('\\', '/')).split('/').filter((p) => p && p !== '.' && p !== '..');
  return parts.join('/') || 'file';
}

/** A free path in the crate: the wanted one, or the same under a numbered folder. */
function claim(taken: Set<string>, wanted: string): string {
  let path = wanted;
  for (let n = 2; taken.has(path); n++) {
    const slash = wanted.indexOf('/');
    path = slash < 0 ? `${n}-${wanted}` : `${wanted.slice(0, slash)}/${n}/${wanted.slice(slash + 1)}`;
  }
  taken.add(path);
  return path;
}

/** RO-Crate ids are URI references: each path segment percent-encoded. */
export const encodePath = (path: string) => path.split('/').map(encodeURIComponent).join('/');

function workflowFileName(m: Manifest): string {
  const file = basename(m.workflow.file);
  // A record's name is text, not a path (a hand-edited or hostile record may hold slashes).
  return /\.ya?ml$/i.test(file) && !file.startsWith('<') ? file : `${String(m.workflow.name ?? '').replace(/[^A-Za-z0-9_-]+/g, '_') || 'workflow'}.yaml`;
}

/** Where the run resolved relative input paths: the workflow file's folder (cwd for one built in code). */
function workflowDir(m: Manifest): string {
  return m.workflow.file.startsWith('<') ? process.cwd() : dirname(resolve(m.workflow.file));
}

function workflowText(text: string): { description?: string; defaults: Record<string, unknown> } {
  try {
    const doc = parseYaml(text) as { description?: unknown; params?: Record<string, unknown> } | null;
    return { description: typeof doc?.description === 'string' ? doc.description : undefined, defaults: doc?.params ?? {} };
  } catch {
    return { defaults: {} };
  }
}

/** The schema.org DataType a param's value has, as Workflow Run Crate asks of a FormalParameter. */
function dataType(value: unknown): string {
  if (typeof value === 'boolean') return 'Boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'Integer' : 'Float';
  if (typeof value === 'string') return 'Text';
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? 'PropertyValue' : 'Text';
}

/** Lists and maps as JSON text: a JSON-LD value that is an object would be read as a node. */
const plain = (value: unknown) => (value !== null && typeof value === 'object' ? JSON.stringify(value) : value);

const formats: Record<string, string> = {
  '.parquet': 'application/vnd.apache.parquet', '.arrow': 'application/vnd.apache.arrow.file', '.arrows': 'application/vnd.apache.arrow.stream',
  '.feather': 'application/vnd.apache.arrow.file', '.csv': 'text/csv', '.tsv': 'text/tab-separated-values', '.json': 'application/json',
  '.jsonl': 'application/x-ndjson', '.yaml': 'application/yaml', '.yml': 'application/yaml', '.txt': 'text/plain',
};
function format(path: string): { encodingFormat?: string } {
  const type = formats[extname(path.replace(/\.gz$/, '')).toLowerCase()];
  return type ? { encodingFormat: type } : {};
}

function licenseEntity(license: string | undefined): Entity {
  if (!license) {
    return { '@id': '#license', '@type': 'CreativeWork', name: 'No license stated', description: 'The crate was exported without a license; ask the workflow\'s authors.' };
  }
  if (/^https?:\/\//.test(license)) return { '@id': license, '@type': 'CreativeWork', name: license };
  return { '@id': `http://spdx.org/licenses/${license}`, '@type': 'CreativeWork', name: license, identifier: license };
}

/** Leaves out properties with nothing to say (no outputs of a failed run, no params). */
function dropEmpty(entity: Entity): Entity {
  return Object.fromEntries(Object.entries(entity).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0))) as Entity;
}

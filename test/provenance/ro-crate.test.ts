// A real run exported as a Workflow Run RO-Crate, checked against the profile rules the export
// implements: RO-Crate 1.1 structure, Workflow RO-Crate's main workflow, Process/Workflow Run
// Crate's CreateAction, params and data entities with their sha256.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { runWorkflow } from '../../src/engine/run-workflow.ts';
import type { RunSummary } from '../../src/observe/summary.ts';
import type { Manifest } from '../../src/provenance/manifest.ts';
import { exportRunCrate, profiles } from '../../src/provenance/ro-crate.ts';
import { readManifest } from '../../src/provenance/runs.ts';
import { builtinCatalog } from '../../src/stages/index.ts';
import { repoRoot, scratchDir } from '../helpers.ts';

type Node = { '@id': string; '@type': string | string[]; [key: string]: unknown };
type Crate = { '@context': unknown; '@graph': Node[] };

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const readCrate = (dest: string) => JSON.parse(readFileSync(join(dest, 'ro-crate-metadata.json'), 'utf8')) as Crate;
const ids = (value: unknown): string[] => (value === undefined ? [] : [value].flat().map((v) => (v as { '@id': string })['@id']));
const types = (node: Node) => [node['@type']].flat();
const isAbsolute = (id: string) => /^[a-z][a-z0-9+.-]*:/i.test(id);

/** Every {"@id": …} reference anywhere in the graph (not the entities' own ids). */
function references(value: unknown, found: string[] = [], top = true): string[] {
  if (Array.isArray(value)) for (const v of value) references(v, found, false);
  else if (value && typeof value === 'object') {
    const keys = Object.keys(value);
    if (!top && keys.length === 1 && keys[0] === '@id') found.push((value as { '@id': string })['@id']);
    else for (const [k, v] of Object.entries(value)) if (k !== '@id') references(v, found, false);
  }
  return found;
}

const csv = 'id,x,label\n1,0.5,a\n2,1.5,b\n3,2.5,c\n4,3.5,d\n';
const workflowYaml = `name: tiny-crate
description: A few CSV rows through a filter into CSV and Parquet
params:
  min: 1
  labels: [a, b]
stages:
  - id: rows
    use: source.csv
    with: { path: data.csv }
  - id: kept
    use: table.filter
    from: rows
    with: { where: "x > \${params.min}" }
  - id: out
    use: sink.csv
    from: kept
    with: { path: kept.csv }
  - id: pq
    use: sink.parquet
    from: kept
    with: { path: tables/kept.parquet }
`;

describe('RO-Crate export', () => {
  const dir = scratchDir();
  const out = join(dir, 'out');
  const workflowFile = join(dir, 'tiny.yaml');
  let run: RunSummary;
  let manifest: Manifest;
  let dest: string;
  let crate: Crate;
  let byId: Map<string, Node>;

  beforeAll(async () => {
    writeFileSync(join(dir, 'data.csv'), csv);
    writeFileSync(workflowFile, workflowYaml);
    run = await runWorkflow(workflowFile, { catalog: builtinCatalog, out, workers: 1, set: ['min=2'] });
    const record = readManifest(out, run.runId);
    manifest = record.manifest;
    dest = join(dir, 'crate');
    const result = await exportRunCrate(record, dest);
    expect(result.warnings).toEqual([]);
    crate = readCrate(dest);
    byId = new Map(crate['@graph'].map((n) => [n['@id'], n]));
    expect(result.entities).toBe(crate['@graph'].length);
  });

  test('RO-Crate 1.1: context, metadata descriptor, root dataset, unique ids, every reference resolves', () => {
    expect(run.status).toBe('ok');
    expect([crate['@context']].flat()).toContain('https://w3id.org/ro/crate/1.1/context');
    expect(byId.size).toBe(crate['@graph'].length); // no id twice
    const descriptor = byId.get('ro-crate-metadata.json')!;
    expect(descriptor['@type']).toBe('CreativeWork');
    expect(ids(descriptor.about)).toEqual(['./']);
    expect(ids(descriptor.conformsTo)).toContain('https://w3id.org/ro/crate/1.1');
    const root = byId.get('./')!;
    expect(root['@type']).toBe('Dataset');
    expect(root.name).toEqual(expect.any(String));
    expect(Number.isNaN(Date.parse(root.datePublished as string))).toBe(false);
    expect(byId.has(ids(root.license)[0])).toBe(true);
    for (const id of references(crate['@graph']).filter((r) => !isAbsolute(r))) expect(byId.has(id), `reference ${id}`).toBe(true);
    // Data entities: listed in hasPart, present in the graph and on disk.
    for (const id of ids(root.hasPart)) {
      expect(byId.get(id), `hasPart ${id}`).toBeDefined();
      expect(types(byId.get(id)!)).toContain('File');
      expect(existsSync(join(dest, decodeURIComponent(id))), `file ${id}`).toBe(true);
    }
  });

  test('Workflow Run Crate: profiles, main workflow, CreateAction, params', () => {
    const root = byId.get('./')!;
    expect(ids(root.conformsTo)).toEqual(expect.arrayContaining([profiles.workflowRun, profiles.processRun, profiles.workflowCrate]));
    expect(profiles.workflowRun).toBe('https://w3id.org/ro/wfrun/workflow/0.5');
    for (const id of ids(root.conformsTo)) expect(types(byId.get(id)!)).toContain('CreativeWork');

    const [mainId] = ids(root.mainEntity);
    const workflow = byId.get(mainId)!;
    expect(types(workflow)).toEqual(['File', 'SoftwareSourceCode', 'ComputationalWorkflow']);
    expect(ids(root.hasPart)).toContain(mainId);
    expect(types(byId.get(ids(workflow.programmingLanguage)[0])!)).toEqual(['ComputerLanguage']);
    expect(readFileSync(join(dest, mainId), 'utf8')).toBe(workflowYaml);
    expect(sha256(join(dest, mainId))).toBe(manifest.workflow.sha256);
    expect(workflow.sha256).toBe(manifest.workflow.sha256);

    const actions = crate['@graph'].filter((n) => types(n).includes('CreateAction'));
    expect(actions).toHaveLength(1);
    const [action] = actions;
    expect(ids(root.mentions)).toContain(action['@id']);
    expect(ids(action.instrument)).toEqual([mainId]);
    expect(action).toMatchObject({ startTime: manifest.startedAt, endTime: manifest.endedAt });
    expect(ids(action.actionStatus)).toEqual(['http://schema.org/CompletedActionStatus']);
    expect(action.error).toBeUndefined();

    // Each param: a FormalParameter on the workflow, a PropertyValue with the run's value among the objects.
    const slots = ids(workflow.input).map((id) => byId.get(id)!);
    expect(slots.map((s) => s.name)).toEqual(Object.keys(manifest.params));
    const values = ids(action.object).map((id) => byId.get(id)!).filter((n) => types(n).includes('PropertyValue'));
    expect(Object.fromEntries(values.map((v) => [v.name, v.value]))).toEqual({ min: 2, labels: '["a","b"]' });
    for (const v of values) {
      const slot = byId.get(ids(v.exampleOfWork)[0])!;
      expect(types(slot)).toEqual(['FormalParameter']);
      expect(slot.name).toBe(v.name);
      expect(slot.additionalType).toEqual(expect.any(String));
    }
    expect(slots.find((s) => s.name === 'min')).toMatchObject({ additionalType: 'Integer', defaultValue: 1 });

    // The engine: quiver and the Node.js it ran on.
    const apps = crate['@graph'].filter((n) => types(n).includes('SoftwareApplication'));
    expect(apps.find((a) => a.name === 'quiver')?.softwareVersion).toBe(manifest.runtime.quiver);
    expect(apps.find((a) => a.name === 'Node.js')?.softwareVersion).toBe(process.version);
  });

  test('outputs are in the crate with the recorded sha256, equal to the real bytes; inputs are described', () => {
    const action = crate['@graph'].find((n) => types(n).includes('CreateAction'))!;
    const root = byId.get('./')!;
    expect(manifest.outputs.map((o) => o.path).sort()).toEqual(['kept.csv', join('tables', 'kept.parquet')]);
    expect(ids(action.result)).toHaveLength(manifest.outputs.length);
    for (const o of manifest.outputs) {
      const id = `outputs/${o.path}`;
      const entity = byId.get(id)!;
      expect(ids(action.result)).toContain(id);
      expect(ids(root.hasPart)).toContain(id);
      expect(entity).toMatchObject({ '@type': 'File', sha256: o.sha256, contentSize: String(o.bytes) });
      expect(sha256(join(dest, id))).toBe(o.sha256);
      expect(sha256(join(out, o.path))).toBe(o.sha256);
    }
    expect(readFileSync(join(dest, 'outputs', 'kept.csv'), 'utf8').trim().split('\n')).toHaveLength(3); // header + x > 2

    // The input file is not copied without --with-inputs: a contextual entity, not a data entity.
    const inputs = ids(action.object).map((id) => byId.get(id)!).filter((n) => !types(n).includes('PropertyValue'));
    expect(inputs.map((i) => i.name)).toEqual(['data.csv']);
    expect(ids(root.hasPart)).not.toContain(inputs[0]['@id']);
    const recorded = (manifest.inputs[0] as { sha256?: string }).sha256;
    expect(inputs[0].sha256).toBe(recorded); // absent where the record has none
    if (recorded) expect(recorded).toBe(sha256(join(dir, 'data.csv')));

    // The engine's traces, copied and pointing at the run.
    for (const [name, id] of [['manifest.json', 'run/manifest.json'], ['log.jsonl', 'run/log.jsonl']]) {
      expect(readFileSync(join(dest, id))).toEqual(readFileSync(join(out, '.quiver', 'runs', run.runId, name)));
      expect(ids(byId.get(id)!.about)).toEqual([action['@id']]);
    }
  });

  test('--with-inputs copies the input files in, with their sha256', async () => {
    const withInputs = join(dir, 'crate-with-inputs');
    await exportRunCrate(readManifest(out, run.runId), withInputs, { withInputs: true, license: 'CC-BY-4.0' });
    const graph = readCrate(withInputs)['@graph'];
    const input = graph.find((n) => n['@id'] === 'inputs/data.csv')!;
    expect(input).toMatchObject({ '@type': 'File', sha256: sha256(join(dir, 'data.csv')), alternateName: 'data.csv' });
    expect(readFileSync(join(withInputs, 'inputs', 'data.csv'), 'utf8')).toBe(csv);
    const root = graph.find((n) => n['@id'] === './')!;
    expect(ids(root.hasPart)).toContain('inputs/data.csv');
    expect(ids(root.license)).toEqual(['http://spdx.org/licenses/CC-BY-4.0']);
    await expect(exportRunCrate(readManifest(out, run.runId), withInputs)).rejects.toThrow(/not empty/);
  });

  test('a failed run: FailedActionStatus with the error', async () => {
    const failedOut = join(dir, 'failed-out');
    const failed = await runWorkflow(join(repoRoot, 'test', 'fixtures', 'generated.yaml'), { catalog: builtinCatalog, out: failedOut, workers: 1, set: ['fail=true'] });
    expect(failed.status).toBe('failed');
    const failedDest = join(dir, 'crate-failed');
    await exportRunCrate(readManifest(failedOut, 'latest'), failedDest);
    const action = readCrate(failedDest)['@graph'].find((n) => types(n).includes('CreateAction'))!;
    expect(ids(action.actionStatus)).toEqual(['http://schema.org/FailedActionStatus']);
    expect(action.error).toMatch(/asked to fail/);
    expect(action.result).toBeUndefined();
  });

  test('an output replaced since the run is described with its recorded hash, not copied', async () => {
    const kept = join(out, 'kept.csv');
    writeFileSync(`${kept}.new`, 'id\n99\n');
    renameSync(`${kept}.new`, kept); // as a later run would: a new file under the same name
    const staleDest = join(dir, 'crate-stale');
    const result = await exportRunCrate(readManifest(out, run.runId), staleDest);
    expect(result.warnings).toEqual([expect.stringContaining('output kept.csv has changed since the run')]);
    expect(existsSync(join(staleDest, 'outputs', 'kept.csv'))).toBe(false);
    const graph = readCrate(staleDest)['@graph'];
    const stale = graph.find((n) => n.name === 'kept.csv')!;
    expect(stale).toMatchObject({ '@type': 'CreativeWork', sha256: manifest.outputs.find((o) => o.path === 'kept.csv')!.sha256 });
    expect(ids(graph.find((n) => n['@id'] === './')!.hasPart)).not.toContain(stale['@id']);
    // The first export hard-linked or copied the file: it still holds the run's bytes.
    expect(sha256(join(dest, 'outputs', 'kept.csv'))).toBe(stale.sha256);
  });

  test('quiver export: writes the crate for an id prefix; --to is required', () => {
    const cliDest = join(dir, 'crate-cli');
    const quiver = (...args: string[]) => spawnSync(process.execPath, [join(repoRoot, 'src/cli/quiver.mjs'), ...args], { cwd: repoRoot, encoding: 'utf8' });
    const done = quiver('export', run.runId.slice(0, -2), '--out', out, '--to', cliDest);
    expect(done.status).toBe(0);
    expect(done.stdout).toContain(`run ${run.runId}`);
    expect(readCrate(cliDest)['@graph'].find((n) => n['@id'] === './')).toBeDefined();
    expect(quiver('export', 'latest', '--out', out).status).toBe(2);
    expect(quiver('export', 'nope', '--out', out, '--to', join(dir, 'x')).stderr).toContain("no run 'nope'");
  });

  // ro-crate-py, where installed, as a second reader of the crate.
  const hasRocrate = spawnSync('python3', ['-c', 'import rocrate'], { encoding: 'utf8' }).status === 0;
  test.skipIf(!hasRocrate)('ro-crate-py reads the crate: same entities, same main workflow', () => {
    const script = 'import sys, json\nfrom rocrate.rocrate import ROCrate\nc = ROCrate(sys.argv[1])\n'
      + 'print(json.dumps({"entities": len(list(c.get_entities())), "main": c.mainEntity.id if c.mainEntity else None}))';
    const result = spawnSync('python3', ['-c', script, dest], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    const read = JSON.parse(result.stdout.trim().split('\n').pop()!);
    expect(read.entities).toBe(crate['@graph'].length);
    expect(read.main).toBe(ids(byId.get('./')!.mainEntity)[0]);
  });
});

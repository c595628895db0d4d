// Cache keys (DESIGN.md §1): the same inputs, stages and params give the same keys in any folder,
// on any machine, whatever the stage ids or the order params were written in; a change reaches
// exactly the keys that depend on it.
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { canonicalJson, hashParts } from '../../src/cache/hash.ts';
import { hashInputFiles } from '../../src/cache/input-hashes.ts';
import { workflowKeys, type WorkflowKeys } from '../../src/engine/keys.ts';
import { resolveWorkflow } from '../../src/engine/run-workflow.ts';
import { builtinCatalog } from '../../src/stages/index.ts';
import { scratchDir } from '../helpers.ts';
import { csvFile, writeText } from '../cache/util.ts';

const root = scratchDir('quiver-keys-');

/** The workflow under test: CSV files → derive → per-partition aggregate and an overall one → sinks. */
const csvWorkflow = (opts: { ids?: [string, string, string, string]; glob?: string; factor?: number; paramOrder?: 'ab' | 'ba' } = {}) => {
  const [src, der, per, all] = opts.ids ?? ['src', 'der', 'per', 'all'];
  const aggregates = opts.paramOrder === 'ba'
    ? '{ s: "sum(y)", n: "count(*)" }'
    : '{ n: "count(*)", s: "sum(y)" }';
  return `name: keys
params: { factor: ${opts.factor ?? 2} }
stages:
  - id: ${src}
    use: source.csv
    with: { path: "${opts.glob ?? 'data/*.csv'}" }
  - id: ${der}
    use: table.derive
    from: ${src}
    with: { columns: { y: "x * \${params.factor}" } }
  - id: ${per}
    use: table.aggregate
    from: ${der}
    with: { by: [], aggregates: ${aggregates}, scope: partition }
  - id: ${all}
    use: table.aggregate
    from: ${der}
    with: { by: [], aggregates: ${aggregates} }
  - id: out-per
    use: sink.csv
    from: ${per}
    with: { path: per/ }
  - id: out-all
    use: sink.parquet
    from: ${all}
    with: { path: all.parquet }
`;
};

async function keysOf(file: string, set: string[] = []): Promise<WorkflowKeys> {
  const workflow = await resolveWorkflow(file, { catalog: builtinCatalog, set });
  const files = workflow.stages.flatMap((s) => (s.partitions ?? []).flatMap((p) => (p.file ? [p.file] : [])));
  const hashes = await hashInputFiles(files);
  return workflowKeys(workflow, (f) => hashes.get(f)!);
}

/** Keys by position (stage order in the file), so that workflows with other stage ids compare. */
const byPosition = (k: WorkflowKeys) => ({ stages: [...k.stages.values()].map((s) => s.keys), sinks: [...k.sinks.values()] });

function project(dir: string, text: string, files = 3): string {
  for (let i = 1; i <= files; i++) csvFile(join(dir, 'data', `f${i}.csv`), i * 100, 40);
  return writeText(join(dir, 'wf.yaml'), text);
}

describe('cache keys', () => {
  test('hashing is canonical: object key order does not matter, part boundaries do', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: 2 } })).toBe(canonicalJson({ a: { c: 2, d: [1, { y: 2, z: 1 }] }, b: 1 }));
    expect(canonicalJson({ a: 1n })).toBe('{"a":"1n"}');
    expect(hashParts('ab', 'c')).not.toBe(hashParts('a', 'bc'));
    expect(hashParts('ab', 'c')).toBe(hashParts('ab', 'c'));
  });

  test('a fixed workflow has the same keys on every machine (golden value)', async () => {
    // Built-in stages only, generated input: nothing here depends on this machine, its paths or
    // its files. If this fails after a deliberate change to what a key hashes (or to a stage's
    // version or param defaults), every cache is invalidated by it: update the value knowingly.
    const file = writeText(join(root, 'golden', 'wf.yaml'), `name: golden
stages:
  - { id: g, use: source.generate, with: { partitions: 2, rows: 10, columns: { id: int64, x: float64 } } }
  - { id: d, use: table.derive, from: g, with: { columns: { y: "x + 1" } } }
  - { id: o, use: sink.csv, from: d, with: { path: o.csv } }
`);
    const keys = await keysOf(file);
    const summary = hashParts(canonicalJson(byPosition(keys)));
    console.log(`golden key summary: ${summary}`);
    expect(keys.stages.get('g')!.names).toEqual(['generated-00000', 'generated-00001']);
    expect(summary).toBe(GOLDEN);
  });

  test('the same project in two folders (two machines) has the same keys; stage ids and param order do not enter them', async () => {
    const a = await keysOf(project(join(root, 'machine-a'), csvWorkflow()));
    const b = await keysOf(project(join(root, 'elsewhere', 'machine-b'), csvWorkflow()));
    expect(byPosition(b)).toEqual(byPosition(a));
    expect(a.stages.get('src')!.names).toEqual(['data/f1.csv', 'data/f2.csv', 'data/f3.csv']);
    // All keys distinct: no two partitions or stages collide.
    const all = [...a.stages.values()].flatMap((s) => s.keys).concat([...a.sinks.values()]);
    expect(new Set(all).size).toBe(all.length);

    const renamed = await keysOf(project(join(root, 'renamed'), csvWorkflow({ ids: ['read', 'scaled', 'each', 'every'], paramOrder: 'ba' })));
    expect(byPosition(renamed)).toEqual(byPosition(a));
  });

  test('a changed input file changes its own partition\'s keys and what depends on all partitions, nothing else', async () => {
    const dir = join(root, 'changed');
    const file = project(dir, csvWorkflow());
    const before = await keysOf(file);
    csvFile(join(dir, 'data', 'f2.csv'), 200, 40, 1); // same name, other content
    const after = await keysOf(file);
    for (const id of ['src', 'der', 'per']) {
      const [k0, k1] = [before.stages.get(id)!.keys, after.stages.get(id)!.keys];
      expect([k0[0] === k1[0], k0[1] === k1[1], k0[2] === k1[2]], id).toEqual([true, false, true]);
    }
    expect(after.stages.get('all')!.keys[0]).not.toBe(before.stages.get('all')!.keys[0]);
    expect(after.sinks.get('out-per')).not.toBe(before.sinks.get('out-per'));
    expect(after.sinks.get('out-all')).not.toBe(before.sinks.get('out-all'));
  });

  test('widening the glob to take in one more file leaves the other files\' keys as they were', async () => {
    const dir = join(root, 'glob');
    project(dir, '', 3);
    const narrow = await keysOf(writeText(join(dir, 'narrow.yaml'), csvWorkflow({ glob: 'data/f[12].csv' })));
    const wide = await keysOf(writeText(join(dir, 'wide.yaml'), csvWorkflow()));
    for (const id of ['src', 'der', 'per']) {
      expect(wide.stages.get(id)!.keys.slice(0, 2), id).toEqual(narrow.stages.get(id)!.keys);
      expect(wide.stages.get(id)!.keys).toHaveLength(3);
    }
    expect(wide.stages.get('all')!.keys).not.toEqual(narrow.stages.get('all')!.keys);
  });

  test('a param changes the keys of its stage and everything downstream, not upstream', async () => {
    const dir = join(root, 'param');
    const file = project(dir, csvWorkflow());
    const two = await keysOf(file);
    const three = await keysOf(file, ['factor=3']);
    expect(three.stages.get('src')!.keys).toEqual(two.stages.get('src')!.keys);
    for (const id of ['der', 'per', 'all']) {
      const changed = three.stages.get(id)!.keys.map((k, j) => k !== two.stages.get(id)!.keys[j]);
      expect(changed.every(Boolean), id).toBe(true);
    }
    expect(three.sinks.get('out-per')).not.toBe(two.sinks.get('out-per'));
    // And back: the same params give the same keys again.
    expect(byPosition(await keysOf(file, ['factor=2']))).toEqual(byPosition(two));
  });

  test('a copy of an input under another name is a partition with its own key; the other files keep theirs', async () => {
    const dir = join(root, 'copied');
    const file = project(dir, csvWorkflow());
    const before = await keysOf(file);
    cpSync(join(dir, 'data', 'f1.csv'), join(dir, 'data', 'f1-copy.csv'));
    const after = await keysOf(file);
    expect(after.stages.get('src')!.names).toEqual(['data/f1-copy.csv', 'data/f1.csv', 'data/f2.csv', 'data/f3.csv']);
    // The copy has f1's bytes but its own name, so its own key; f1..f3 keep theirs.
    expect(after.stages.get('src')!.keys.slice(1)).toEqual(before.stages.get('src')!.keys);
    expect(after.stages.get('src')!.keys[0]).not.toBe(before.stages.get('src')!.keys[0]);
  });
});

const GOLDEN = '13f48e534015726daff052637c56018e319d358294a1d8f83be94e072a66c5d3';

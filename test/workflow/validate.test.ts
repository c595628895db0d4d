// Every kind of problem `quiver validate` reports, as the sentence a user reads.
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { builtinCatalog } from '../../src/stages/index.ts';
import { parseWorkflow } from '../../src/workflow/load.ts';
import { validateWorkflow } from '../../src/workflow/validate.ts';
import { repoRoot } from '../helpers.ts';

const fixtures = join(repoRoot, 'test', 'fixtures');

async function problems(yaml: string, set: string[] = []): Promise<string[]> {
  const loaded = parseWorkflow(yaml, 'wf.yaml', fixtures);
  if (!loaded.spec) return loaded.problems.map((p) => `${p.line ?? '-'}: ${p.message}`);
  const result = await validateWorkflow(loaded.spec, loaded.source, { catalog: builtinCatalog, set });
  return result.problems.map((p) => `${p.line ?? '-'}: ${p.message}`);
}

const gen = `  - id: gen
    use: source.generate
    with: { partitions: 2, rows: 10, columns: { id: int64, x: float64 } }
`;

describe('validate', () => {
  test('a valid workflow has no problems and resolves every schema', async () => {
    const loaded = parseWorkflow(`name: ok\nstages:\n${gen}  - id: dbl\n    use: ./stages.ts#double\n    from: gen\n`, 'wf.yaml', fixtures);
    const { workflow, problems: found } = await validateWorkflow(loaded.spec!, loaded.source, { catalog: builtinCatalog });
    expect(found).toEqual([]);
    expect(workflow!.byId.get('dbl')!.schema.fields.map((f) => f.name)).toEqual(['id', 'x', 'doubled']);
  });

  test('an unknown `use`, with the nearest name suggested', async () => {
    expect(await problems(`name: w\nstages:\n  - id: a\n    use: source.generat\n`))
      .toEqual(["3: stage 'a': unknown stage 'source.generat' (did you mean 'source.generate'?)"]);
  });

  test("unknown and missing 'from', and a source given one", async () => {
    const found = await problems(`name: w\nstages:\n${gen}  - id: dbl\n    use: ./stages.ts#double\n    from: nope\n  - id: dbl2\n    use: ./stages.ts#double\n  - id: gen2\n    use: source.generate\n    from: gen\n`);
    expect(found).toContain("6: stage 'dbl': 'from' names 'nope', which is not a stage id (ids: gen, dbl, dbl2, gen2)");
    expect(found).toContain("9: stage 'dbl2' (./stages.ts#double) takes 1 input in 'from', but 'from' is missing");
    expect(found).toContain("11: stage 'gen2' (source.generate) takes no 'from', but 'from' has 1");
  });

  test('duplicate ids', async () => {
    expect(await problems(`name: w\nstages:\n${gen}${gen}`)).toContain("6: stage id 'gen' is used more than once");
  });

  test('a cycle is printed in data-flow order', async () => {
    const found = await problems(`name: w\nstages:
  - id: a
    use: ./stages.ts#double
    from: c
  - id: b
    use: ./stages.ts#double
    from: a
  - id: c
    use: ./stages.ts#double
    from: b
`);
    expect(found).toEqual(['3: the stages form a cycle: a -> b -> c -> a']);
  });

  test('bad, missing and unknown params name the stage, the key and what was given', async () => {
    const found = await problems(`name: w\nstages:
  - id: gen
    use: source.generate
    with: { partitions: many, colour: red }
  - id: rec
    use: ./stages.ts#record
    from: gen
`);
    expect(found).toContain("3: stage 'gen' (source.generate): 'partitions' must be number (got \"many\")");
    expect(found).toContain("3: stage 'gen' (source.generate): unknown key 'colour'");
    expect(found).toContain("6: stage 'rec' (./stages.ts#record): 'name' is required");
  });

  test('an edge whose schemas do not fit names both stages, the column and both types', async () => {
    const found = await problems(`name: w\nstages:\n${gen}  - id: dbl\n    use: ./stages.ts#double\n    from: gen\n    with: { column: id }\n  - id: dbl2\n    use: ./stages.ts#double\n    from: gen\n    with: { column: y }\n`);
    expect(found).toContain("6: stage 'dbl' (./stages.ts#double) cannot take column 'id' from stage 'gen': it is int64, but 'dbl' needs float64");
    expect(found).toContain("10: stage 'dbl2' (./stages.ts#double) needs column 'y', which stage 'gen' does not give (it gives: id, x)");
  });

  test('params: ${params.x} keeps its type, --set is typed by the default, unknown names are problems', async () => {
    const yaml = `name: w\nparams: { n: 3, label: a }\nstages:\n  - id: gen\n    use: source.generate\n    with: { partitions: "\${params.n}", rows: "\${params.missing}" }\n`;
    expect(await problems(yaml)).toEqual(["4: stage 'gen': '${params.missing}' names no param (params: n, label)"]);
    const ok = `name: w\nparams: { n: 3 }\nstages:\n  - id: gen\n    use: source.generate\n    with: { partitions: "\${params.n}" }\n`;
    const loaded = parseWorkflow(ok, 'wf.yaml', fixtures);
    const { workflow } = await validateWorkflow(loaded.spec!, loaded.source, { catalog: builtinCatalog, set: ['n=7'] });
    expect(workflow!.byId.get('gen')!.partitions).toHaveLength(7);
    expect(await problems(ok, ['n=seven'])).toEqual(['-: --set n=seven: expected a number like the default 3']);
    expect(await problems(ok, ['m=1'])).toEqual(["-: --set m: the workflow has no param 'm' (params: n)"]);
  });

  test('${out} is the output folder, absolute; a Parquet source with missing: empty has no rows and no columns until a run writes it', async () => {
    const yaml = `name: w\nstages:\n  - id: record\n    use: source.parquet\n    with: { path: "\${out}/record.parquet", missing: empty }\n`;
    const loaded = parseWorkflow(yaml, 'wf.yaml', fixtures);
    const out = join(fixtures, 'no-such-out');
    const { workflow, problems: found } = await validateWorkflow(loaded.spec!, loaded.source, { catalog: builtinCatalog, out });
    expect(found).toEqual([]);
    const record = workflow!.byId.get('record')!;
    expect((record.params as { path: string }).path).toBe(join(out, 'record.parquet'));
    expect(record.partitions).toEqual([]);
    expect(record.schema.fields).toEqual([]);
    expect(await problems(yaml.replace(', missing: empty', ''))).toEqual([`3: stage 'record' (source.parquet): no file matches '${join(resolve('out'), 'record.parquet')}' in ${fixtures}`]);
  });

  test('YAML and structure errors carry a line', async () => {
    expect(await problems('name: w\nstages:\n  - id: a\n   use: x\n')).toEqual(['4: YAML: Sequence item without - indicator']);
    expect(await problems('name: Bad Name\nstages: []\n')).toEqual([
      "-: workflow: 'name': names are lower-case letters, digits and -",
      "-: workflow: 'stages': a workflow needs at least one stage",
    ]);
    expect(await problems('name: w\nstages:\n  - id: a\n    use: source.generate\n    wth: {}\n')).toEqual([
      "3: stage 'a': unknown key 'wth'",
    ]);
  });

  test("taking from a sink is a problem: sinks have no output", async () => {
    const found = await problems(`name: w\nstages:\n${gen}  - id: rec\n    use: ./stages.ts#record\n    from: gen\n    with: { name: r }\n  - id: dbl\n    use: ./stages.ts#double\n    from: rec\n`);
    expect(found).toContain("10: stage 'dbl': 'from' names 'rec', a sink, which has no output");
  });
});

// The sandbox judges real paths: links are followed to where they lead before a file is read, a
// stage file imported or a sink file written, and the output folder may not hold what is read.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { InvalidWorkflowError, resolveWorkflow, runWorkflow } from '../../src/engine/run-workflow.ts';
import { builtinCatalog } from '../../src/stages/index.ts';
import { loadWorkflowFile } from '../../src/workflow/load.ts';
import { validateWorkflow } from '../../src/workflow/validate.ts';
import type { WorkflowSource, WorkflowSpec } from '../../src/workflow/types.ts';
import { repoRoot, scratchDir } from '../helpers.ts';

const root = realpathSync(scratchDir());
const elsewhere = join(root, 'elsewhere');
mkdirSync(elsewhere);
writeFileSync(join(elsewhere, 'a.csv'), 'secret\n42\n');
// Importing this stage file leaves a mark: proof that its code ran.
const marker = join(root, 'stage-file-ran');
const evil = join(elsewhere, 'evil.mjs');
writeFileSync(evil, `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'ran');\nexport const x = {};\n`);

/** A fresh workflow folder with data/b.csv in it. */
const folder = (name: string) => {
  const dir = join(root, name);
  mkdirSync(join(dir, 'data'), { recursive: true });
  writeFileSync(join(dir, 'data', 'b.csv'), 'x\n2\n');
  return dir;
};
const csvWorkflow = (dir: string, path: string, sink = 'out.csv') => {
  const file = join(dir, `wf-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, `name: paths\nstages:\n  - id: read\n    use: source.csv\n    with: { path: "${path}" }\n  - id: out\n    use: sink.csv\n    from: read\n    with: { path: "${sink}" }\n`);
  return file;
};
const stageWorkflow = (dir: string, use: string) => {
  const file = join(dir, `wf-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, `name: stage-file\nstages:\n  - id: gen\n    use: source.generate\n  - id: m\n    use: ${use}\n    from: gen\n`);
  return file;
};
const problemsOf = async (file: string, options: { allowPaths?: string[]; out?: string } = {}) => {
  try {
    await resolveWorkflow(file, { catalog: builtinCatalog, ...options });
    return [];
  } catch (error) {
    if (!(error instanceof InvalidWorkflowError)) throw error;
    return error.problems.map((p) => p.message);
  }
};

describe('reads', () => {
  const dir = folder('reads');
  mkdirSync(join(dir, 'links'));
  symlinkSync(join(elsewhere, 'a.csv'), join(dir, 'links', 'out.csv'));
  symlinkSync(elsewhere, join(dir, 'dirlink'));
  symlinkSync(join(dir, 'data', 'b.csv'), join(dir, 'links', 'in.csv'));
  symlinkSync(join(dir, 'data'), join(dir, 'data-alias'));

  test("a glob with '..' after a wildcard is refused before it is matched", async () => {
    expect(await problemsOf(csvWorkflow(dir, 'data/*/../../../elsewhere/*.csv'))).toEqual([
      "stage 'read' (source.csv): path 'data/*/../../../elsewhere/*.csv' has '..' after a wildcard, which could lead anywhere; write the folder before the wildcard",
    ]);
  });

  test('a file link and a folder link leading out of the folder are refused, naming the link and where it leads', async () => {
    expect(await problemsOf(csvWorkflow(dir, 'links/out.csv'))).toEqual([
      `stage 'read' (source.csv): 'links/out.csv' leads to ${elsewhere}/a.csv, outside the folders this workflow may read (${dir}, ${join(realpathSync(process.cwd()), 'out')}); to read there, allow it: --allow-path ${elsewhere}`,
    ]);
    expect((await problemsOf(csvWorkflow(dir, 'dirlink/*.csv')))[0]).toContain(`'dirlink/a.csv' leads to ${elsewhere}/a.csv, outside`);
    expect((await problemsOf(csvWorkflow(dir, '**/*.csv')))[0]).toMatch(/'(dirlink\/a|links\/out)\.csv' leads to .*elsewhere\/a\.csv, outside/);
  });

  test('links that stay inside are followed; --allow-path lets a link lead to the folder it allows', async () => {
    expect(await problemsOf(csvWorkflow(dir, 'links/in.csv'))).toEqual([]);
    expect(await problemsOf(csvWorkflow(dir, 'data-alias/*.csv'))).toEqual([]);
    expect(await problemsOf(csvWorkflow(dir, 'links/out.csv'), { allowPaths: [elsewhere] })).toEqual([]);
  });
});

describe('files a stage reads besides a source path (a model artifact)', () => {
  const dir = folder('artifacts');
  mkdirSync(join(elsewhere, 'model'), { recursive: true });
  symlinkSync(join(elsewhere, 'model'), join(dir, 'model-link'));
  const predictWorkflow = (artifact: string) => {
    const file = join(dir, `wf-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, `name: predict\nstages:\n  - id: gen\n    use: source.generate\n  - id: p\n    use: model.predict\n    from: gen\n    with: { artifact: "${artifact}" }\n`);
    return file;
  };

  test("model.predict's artifact is judged like a source path: '..' out of the folder and a link leading out are refused before it is read", async () => {
    expect((await problemsOf(predictWorkflow('../elsewhere/model')))[0]).toMatch(/^stage 'p' \(model\.predict\): '\.\.\/elsewhere\/model' leads outside the workflow's folder/);
    expect((await problemsOf(predictWorkflow('model-link')))[0]).toBe(
      `stage 'p' (model.predict): 'model-link' leads to ${elsewhere}/model, outside the folders this workflow may read (${dir}, ${join(realpathSync(process.cwd()), 'out')}); to read there, allow it: --allow-path ${elsewhere}`,
    );
  });
});

describe('stage files are checked before they are imported', () => {
  const dir = folder('stages');
  symlinkSync(evil, join(dir, 'linked.mjs'));
  mkdirSync(join(dir, 'lib'));
  writeFileSync(join(dir, 'lib', 'real.ts'), `export { double } from ${JSON.stringify(join(repoRoot, 'test/fixtures/stages.ts'))};\n`);
  symlinkSync(join(dir, 'lib', 'real.ts'), join(dir, 'alias.ts'));

  test('a file: URL, an absolute path outside and a link leading out are refused, and their code never runs', async () => {
    expect(await problemsOf(stageWorkflow(dir, `file://${evil}#x`))).toEqual([
      `stage 'm': stage file 'file://${evil}' is a URL; give a path relative to the workflow file (./stages.ts#name)`,
    ]);
    expect((await problemsOf(stageWorkflow(dir, `${evil}#x`)))[0]).toMatch(new RegExp(`^stage 'm': stage file '${evil}' leads outside the workflow's folder`));
    expect((await problemsOf(stageWorkflow(dir, './linked.mjs#x')))[0]).toBe(
      `stage 'm': stage file './linked.mjs' leads to ${evil}, outside the folders this workflow may read (${dir}, ${join(realpathSync(process.cwd()), 'out')}); to read there, allow it: --allow-path ${elsewhere}`,
    );
    expect(existsSync(marker)).toBe(false);
  });

  test('also when only the structure is checked (quiver graph)', async () => {
    const file = stageWorkflow(dir, './linked.mjs#x');
    const loaded = await loadWorkflowFile(file);
    const { problems } = await validateWorkflow(loaded.spec as WorkflowSpec, loaded.source as WorkflowSource, { catalog: builtinCatalog, structureOnly: true });
    expect(problems.map((p) => p.message)).toEqual([expect.stringContaining("stage file './linked.mjs' leads to")]);
    const graph = spawnSync(process.execPath, [join(repoRoot, 'src/cli/quiver.mjs'), 'graph', file], { encoding: 'utf8' });
    expect(graph.status).toBe(2);
    expect(graph.stderr).toContain(`stage 'm': stage file './linked.mjs' leads to ${evil}`);
    expect(existsSync(marker)).toBe(false);
  });

  test('a link to a stage file inside the folder is fine', async () => {
    expect(await problemsOf(stageWorkflow(dir, './alias.ts#double'))).toEqual([]);
  });
});

describe('sinks', () => {
  const dir = folder('sinks');

  test('a sink path in .quiver/ is refused before the run', async () => {
    expect(await problemsOf(csvWorkflow(dir, 'data/b.csv', '.quiver/lock'))).toEqual([
      "stage 'out' (sink.csv): 'path': must not be in .quiver/, which holds the run records and the cache",
    ]);
  });

  test('a sink through a link out of the output folder, or into .quiver/, fails the run and writes nothing there', async () => {
    const out = join(root, 'sink-out');
    const target = join(root, 'sink-target');
    mkdirSync(join(out, '.quiver'), { recursive: true });
    mkdirSync(target);
    symlinkSync(target, join(out, 'link'));
    symlinkSync(join(out, '.quiver'), join(out, 'records'));
    const outside = await runWorkflow(csvWorkflow(dir, 'data/b.csv', 'link/x.csv'), { catalog: builtinCatalog, out, workers: 1 });
    expect(outside.status).toBe('failed');
    expect(outside.error).toContain(`sink path 'link/x.csv' leads to ${target}, outside the output folder ${out}; links out of it are not followed`);
    expect(readdirSync(target)).toEqual([]);
    const records = await runWorkflow(csvWorkflow(dir, 'data/b.csv', 'records/x.csv'), { catalog: builtinCatalog, out, workers: 1 });
    expect(records.status).toBe('failed');
    expect(records.error).toContain(`sink path 'records/x.csv' leads into ${join(out, '.quiver')}, which holds the run records and the cache`);
    expect(readdirSync(join(out, '.quiver')).filter((n) => n.endsWith('.csv') || n.endsWith('.tmp'))).toEqual([]);
  });
});

describe('--out', () => {
  test('equal to the folder a source reads, or holding it, is refused before anything is written', async () => {
    const dir = folder('out-self');
    const file = csvWorkflow(dir, 'data/b.csv', 'data/b.csv');
    await expect(runWorkflow(file, { catalog: builtinCatalog, out: join(dir, 'data'), workers: 1 })).rejects.toThrow(
      `stage 'read' (source.csv): the output folder ${join(dir, 'data')} holds 'data/b.csv' (${join(dir, 'data', 'b.csv')}), which this source reads: the run would overwrite its own input; choose an --out outside it`,
    );
    await expect(runWorkflow(file, { catalog: builtinCatalog, out: root, workers: 1 })).rejects.toThrow(`the output folder ${root} holds 'data/b.csv'`);
    expect(readFileSync(join(dir, 'data', 'b.csv'), 'utf8')).toBe('x\n2\n');
    expect(existsSync(join(dir, 'data', '.quiver'))).toBe(false);
    expect(existsSync(join(root, '.quiver'))).toBe(false);
  });

  test('inside the workflow folder is fine while no source reads from it; a glob that reaches into it is refused', async () => {
    const dir = folder('out-inside');
    const out = join(dir, 'out');
    const run = await runWorkflow(csvWorkflow(dir, 'data/*.csv'), { catalog: builtinCatalog, out, workers: 1 });
    expect(run.status).toBe('ok');
    expect(readFileSync(join(out, 'out.csv'), 'utf8')).toBe('x\n2\n');
    expect((await problemsOf(csvWorkflow(dir, '**/*.csv'), { out }))[0]).toBe(
      `stage 'read' (source.csv): '**/*.csv' matches ${join(out, 'out.csv')}, inside the output folder ${out}: the run would read what it writes; narrow the pattern or choose an --out elsewhere`,
    );
  });
});

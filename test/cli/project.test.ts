// The project file through the real command: the bundled workflows run as typed, with no flags;
// a project file's folders are recorded; flags win over its defaults; a bad one stops every command.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { repoRoot, scratchDir } from '../helpers.ts';

const quiver = (args: string[], cwd = repoRoot) => {
  const result = spawnSync(process.execPath, [join(repoRoot, 'src/cli/quiver.mjs'), ...args], { cwd, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};

/** A project: quiver.yaml (given text), data/a.csv beside it, and flows/wf.yaml reading ../data/a.csv. */
function project(text: string | undefined): { dir: string; wf: string } {
  const dir = scratchDir();
  mkdirSync(join(dir, 'data'));
  mkdirSync(join(dir, 'flows'));
  writeFileSync(join(dir, 'data', 'a.csv'), 'id,x\n1,0.5\n2,1.5\n');
  if (text !== undefined) writeFileSync(join(dir, 'quiver.yaml'), text);
  const wf = join(dir, 'flows', 'wf.yaml');
  writeFileSync(wf, 'name: wf\nstages:\n  - id: read\n    use: source.csv\n    with: { path: ../data/a.csv }\n' +
    '  - id: out\n    use: sink.csv\n    from: read\n    with: { path: a.csv }\n' +
    'results:\n  - output: a.csv\n    title: Rows\n    headline: [id, x]\n');
  return { dir, wf };
}

describe('the project file, quiver.yaml', () => {
  test('a bundled workflow runs as typed: no --allow-path, the repository\'s folders in its record, its headline printed', () => {
    const out = scratchDir();
    const run = quiver(['run', 'workflows/astronomy/goes-flares.yaml', '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^goes-flares → Flares \(NOAA SWPC definition\): M2\.5 start 06:16 peak 06:41 end 06:59 peak flux 2\.545e-5$/m);
    const runs = join(out, '.quiver', 'runs');
    const [id] = readdirSync(runs);
    const manifest = JSON.parse(readFileSync(join(runs, id, 'manifest.json'), 'utf8'));
    expect(manifest.allowPaths).toEqual([join(repoRoot, 'data'), join(repoRoot, '..', 'shared', 'data')]);
    expect(quiver(['validate', 'workflows/medical/ct-lung.yaml']).code).toBe(0);
    // A committed model, kept while its rows and params are the workflow's, says so.
    const forecast = quiver(['run', 'workflows/finance/forecast.yaml', '--out', join(out, 'forecast')]);
    expect(forecast.code, forecast.stderr).toBe(0);
    expect(forecast.stdout).toContain('\nlstm: kept ../../data/models/spy-lstm/: trained on the same rows (not trained again)\n');
    expect(forecast.stdout).toMatch(/^spy-forecast → Test-period errors \(MAE, RMSE, skill against persistence\): lstm mae 0\.6057 rmse 1\.055 directional accuracy 0\.5547$/m);
    expect(quiver(['graph', 'workflows/astronomy/goes-flares.yaml']).code).toBe(0);
    // Without it, the old refusal: the data lies outside the workflow's folder.
    const bare = quiver(['validate', 'workflows/astronomy/goes-flares.yaml', '--no-project']);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/leads outside the workflow's folder .*--allow-path/);
  });

  test('found walking up from the workflow file, wherever the command runs; without one the data is refused', () => {
    const { dir, wf } = project('allowPaths: [data]\n');
    const elsewhere = scratchDir();
    const run = quiver(['run', wf, '--out', join(elsewhere, 'o')], elsewhere);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('wf → Rows: id 1 x 0.5 | id 2 x 1.5');
    const none = project(undefined);
    const refused = quiver(['validate', none.wf], elsewhere);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/'\.\.\/data\/a\.csv' leads outside the workflow's folder/);
    expect(dir).not.toBe(none.dir);
  });

  test('its defaults apply where no flag is given; flags win', () => {
    const { dir, wf } = project('allowPaths: [data]\ndefaults: { out: results, workers: 1 }\n');
    expect(quiver(['run', wf]).code).toBe(0);
    expect(existsSync(join(dir, 'results', 'a.csv'))).toBe(true);
    const out = scratchDir();
    expect(quiver(['run', wf, '--out', out, '--workers', '2']).code).toBe(0);
    expect(existsSync(join(out, 'a.csv'))).toBe(true);
  });

  test('a bad project file stops run, validate, graph and schedule with exit 2, naming the file and line', () => {
    const { dir, wf } = project('allowPaths: [data]\nallow: [/]\n');
    for (const command of ['run', 'validate', 'graph', 'schedule']) {
      const result = quiver([command, wf, ...(command === 'run' || command === 'schedule' ? ['--out', join(dir, 'o')] : [])]);
      expect([command, result.code]).toEqual([command, 2]);
      expect(result.stderr).toContain(`${join(dir, 'quiver.yaml')}:2: project file: unknown key 'allow' (known keys: allowPaths, defaults)`);
    }
    writeFileSync(join(dir, 'quiver.yaml'), 'allowPaths:\n  - data\n  - /\n');
    const root = quiver(['validate', wf]);
    expect(root.code).toBe(2);
    expect(root.stderr).toContain(`${join(dir, 'quiver.yaml')}:3: project file: allowPaths entry '/' is the filesystem root`);
    // --no-project leaves it out: the workflow is then refused its data, not the project file.
    expect(quiver(['validate', wf, '--no-project', '--allow-path', join(dir, 'data')]).code).toBe(0);
  });

  test('a folder of workflows: a quiver.yaml in it is no workflow; the end says where to look', () => {
    const { dir } = project('allowPaths: [data]\n');
    writeFileSync(join(dir, 'flows', 'quiver.yaml'), 'allowPaths: [../data]\n');
    const out = scratchDir();
    const run = quiver(['run', join(dir, 'flows'), '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('1 of 1 workflows ran');
    expect(run.stdout).toMatch(/quiver serve --out \S+/);
    expect(run.stdout).toMatch(/quiver report latest --out \S+wf/);
  });
});

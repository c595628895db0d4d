// Where a workflow may read, and what its run record may say: paths leading out of the workflow's
// folder are refused unless allowed, and secret-looking params never reach logs or records.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { InvalidWorkflowError, resolveWorkflow, runWorkflow } from '../../src/engine/run-workflow.ts';
import { builtinCatalog } from '../../src/stages/index.ts';
import { Redactor, isSecretName } from '../../src/workflow/secrets.ts';
import { scratchDir } from '../helpers.ts';

const root = scratchDir();
const flows = join(root, 'flows');
const elsewhere = join(root, 'elsewhere');
mkdirSync(flows, { recursive: true });
mkdirSync(elsewhere, { recursive: true });
writeFileSync(join(elsewhere, 'a.csv'), 'x\n1\n');
writeFileSync(join(flows, 'b.csv'), 'x\n2\n');

const csvWorkflow = (path: string, extra = '') => {
  const file = join(flows, `wf-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, `name: paths\n${extra}stages:\n  - id: read\n    use: source.csv\n    with: { path: "${path}" }\n  - id: out\n    use: sink.csv\n    from: read\n    with: { path: out.csv }\n`);
  return file;
};
const problemsOf = async (file: string, allowPaths?: string[]) => {
  try {
    await resolveWorkflow(file, { catalog: builtinCatalog, allowPaths });
    return [];
  } catch (error) {
    if (!(error instanceof InvalidWorkflowError)) throw error;
    return error.problems.map((p) => p.message);
  }
};

describe('paths a workflow may read', () => {
  test("'..' escapes and absolute paths are refused, naming the flag that allows them", async () => {
    expect(await problemsOf(csvWorkflow('../elsewhere/*.csv'))).toEqual([
      expect.stringMatching(/^stage 'read' \(source\.csv\): path '\.\.\/elsewhere\/\*\.csv' leads outside the workflow's folder .*--allow-path .*elsewhere$/),
    ]);
    expect((await problemsOf(csvWorkflow('/etc/passwd')))[0]).toMatch(/path '\/etc\/passwd' leads outside/);
    expect((await problemsOf(csvWorkflow('sub/../../elsewhere/a.csv')))[0]).toMatch(/leads outside/);
  });

  test('inside the folder, or in an allowed folder, is fine', async () => {
    expect(await problemsOf(csvWorkflow('*.csv'))).toEqual([]);
    expect(await problemsOf(csvWorkflow('../elsewhere/*.csv'), [elsewhere])).toEqual([]);
  });

  test('a stage file outside the folder is refused too', async () => {
    const file = join(flows, 'stagefile.yaml');
    writeFileSync(file, 'name: s\nstages:\n  - id: read\n    use: source.csv\n    with: { path: b.csv }\n  - id: m\n    use: ../elsewhere/stage.ts#x\n    from: read\n');
    expect((await problemsOf(file))[0]).toMatch(/^stage 'm': stage file '\.\.\/elsewhere\/stage\.ts' leads outside/);
  });
});

describe('secrets', () => {
  test('names that look like credentials are secret; column lists named keys are not', () => {
    for (const name of ['apiToken', 'password', 'db_password', 'api_key', 'accessKey', 'key', 'clientSecret']) expect(isSecretName(name), name).toBe(true);
    for (const name of ['keys', 'sortKeys', 'monkey', 'columns', 'by']) expect(isSecretName(name), name).toBe(false);
  });

  test('redacting the workflow text keeps everything but the secret values', () => {
    const text = 'name: x\nparams:\n  apiToken: "s3cr3t" # from the vault\n  year: 2020\n';
    const out = Redactor.none.workflowText(text);
    expect(out).not.toContain('s3cr3t');
    expect(out).toContain('apiToken: "[redacted]" # from the vault');
    expect(out).toContain('year: 2020');
  });

  test('a secret param never reaches the run record or the log', async () => {
    const file = csvWorkflow('b.csv', 'params:\n  apiToken: "s3cr3t-value"\n  password: hunter2\n');
    const out = join(root, 'secret-run');
    const summary = await runWorkflow(file, { catalog: builtinCatalog, out, workers: 1 });
    expect(summary.status).toBe('ok');
    const runDir = join(out, '.quiver', 'runs', summary.runId);
    for (const name of readdirSync(runDir)) {
      const text = readFileSync(join(runDir, name), 'utf8');
      expect(text, name).not.toContain('s3cr3t-value');
      expect(text, name).not.toContain('hunter2');
    }
    const manifest = JSON.parse(readFileSync(summary.manifest, 'utf8'));
    expect(manifest.params).toEqual({ apiToken: '[redacted]', password: '[redacted]' });
  });
});

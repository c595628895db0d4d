// Secret params never leave a run by value (issue 16): a password used inside an expression, given
// with --set, a numeric db_pass, a signing_key list and a token nested in a map, each searched for
// in everything the CLI prints and every file a run, its report and its RO-Crate leave behind.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { duckdb, repoRoot, scratchDir } from '../helpers.ts';

const quiver = (...args: string[]) => {
  const result = spawnSync(process.execPath, [join(repoRoot, 'src/cli/quiver.mjs'), ...args], { cwd: repoRoot, encoding: 'utf8' });
  return { code: result.status, output: result.stdout + result.stderr };
};
const files = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]));

const secrets = ['setpw-777', 'default-pw-1', '31415926', 'alpha-sig-1', 'beta-sig-2', 'nested-tok-9'];
const dir = scratchDir();
writeFileSync(join(dir, 'd.csv'), 'k,v\na,1\nb,2\nc,3\n');
// Every kind of secret param, each used inside an expression: the filter keeps every row, the
// quarantining check rejects one (its reason quoting the expression), `gate` fails when max_v is low.
const workflow = join(dir, 'w.yaml');
writeFileSync(workflow, `name: secrets
params:
  password: default-pw-1
  db_pass: 31415926
  signing_key: [alpha-sig-1, beta-sig-2]
  cfg: { auth: { token: nested-tok-9 } }
  max_v: 10
stages:
  - id: src
    use: source.csv
    with: { path: d.csv }
  - id: keep
    use: table.filter
    from: src
    with: { where: "k != '\${params.password}' or v == \${params.db_pass} or k != '\${params.signing_key}' or k != '\${params.cfg}'" }
  - id: check
    use: table.require
    from: keep
    onError: quarantine
    with: { where: "k != 'b' or k == '\${params.password}' or v == \${params.db_pass}" }
  - id: gate
    use: table.require
    from: check
    with: { where: "v < \${params.max_v} or k == '\${params.signing_key}' or k == '\${params.cfg}'" }
  - id: out
    use: sink.csv
    from: gate
    with: { path: o.csv }
`);

function expectNoSecret(text: string, where: string) {
  for (const s of secrets) expect(text.includes(s), `${s} in ${where}`).toBe(false);
}

describe('secret params are redacted by value', () => {
  test('a run that quarantines: record, log, report, crate and quarantine rows', async () => {
    const out = join(dir, 'ok');
    const run = quiver('run', workflow, '--out', out, '--set', 'password=setpw-777', '--json');
    expect(run.code, run.output).toBe(0);
    expectNoSecret(run.output, 'run output');
    const report = quiver('report', 'latest', '--out', out);
    expect(report.code, report.output).toBe(0);
    const crate = join(dir, 'crate');
    const exported = quiver('export', 'latest', '--out', out, '--to', crate);
    expect(exported.code, exported.output).toBe(0);
    const all = [...files(out), ...files(crate)];
    expect(all.map((f) => f.slice(dir.length))).toEqual(expect.arrayContaining([
      expect.stringMatching(/manifest\.json$/), expect.stringMatching(/log\.jsonl$/), expect.stringMatching(/report\.html$/),
      expect.stringMatching(/_quarantine\/check\.parquet$/), expect.stringMatching(/ro-crate-metadata\.json$/),
    ]));
    for (const file of all) expectNoSecret(readFileSync(file).toString('latin1'), file);
    // Parquet may compress the reason: read it back too. It still says what the row failed.
    const [[reason]] = await duckdb(`SELECT _error FROM '${join(out, '_quarantine', 'check.parquet')}'`);
    expectNoSecret(String(reason), 'quarantine _error');
    expect(reason).toBe("does not satisfy k != 'b' or k == '[redacted]' or v == [redacted]");
    const manifest = JSON.parse(readFileSync(join(out, '.quiver', 'runs', JSON.parse(run.output.split('\n')[0]).runId, 'manifest.json'), 'utf8'));
    expect(manifest.params).toMatchObject({ password: '[redacted]', db_pass: '[redacted]', signing_key: '[redacted]', max_v: 10 });
  });

  test('a run that fails: the error on stderr and in the record names the stage, not the secrets', () => {
    const out = join(dir, 'failed');
    const run = quiver('run', workflow, '--out', out, '--set', 'password=setpw-777', '--set', 'max_v=0');
    expect(run.code).toBe(1);
    expect(run.output).toContain("stage 'gate'");
    expect(run.output).toContain("k == '[\"[redacted]\",\"[redacted]\"]'");
    expectNoSecret(run.output, 'stderr');
    for (const file of files(out)) expectNoSecret(readFileSync(file).toString('latin1'), file);
  });

  test('invalid workflows and bad overrides: the problems quote no secret', () => {
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, readFileSync(workflow, 'utf8').replace("k != 'b' or", "k === 'b' or"));
    const invalid = quiver('run', broken, '--out', join(dir, 'invalid'), '--set', 'password=setpw-777');
    expect(invalid.code).toBe(2);
    expect(invalid.output).toContain("stage 'check' (table.require)");
    expectNoSecret(invalid.output, 'stderr');
    expectNoSecret(quiver('validate', broken).output, 'validate');
    const badSet = quiver('run', workflow, '--out', join(dir, 'invalid'), '--set', 'db_pass=setpw-777');
    expect(badSet.code).toBe(2);
    expect(badSet.output).toContain('--set db_pass=[redacted]: expected a number');
    expectNoSecret(badSet.output, 'stderr');
  });
});

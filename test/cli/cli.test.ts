// The `quiver` command as other tools see it: exit codes, stdout, stderr (DESIGN.md §3).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { duckdb, repoRoot, scratchDir } from '../helpers.ts';

const quiver = (...args: string[]) => {
  const result = spawnSync(process.execPath, [join(repoRoot, 'src/cli/quiver.mjs'), ...args], { cwd: repoRoot, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};
const fixture = (name: string) => join('test', 'fixtures', name);

describe('quiver CLI', () => {
  test('CMD --help and help CMD: that command\'s usage, exit 0, the command not run', () => {
    for (const args of [['run', '--help'], ['help', 'run'], ['serve', '-h']]) {
      const r = quiver(...args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^  quiver ${args[0] === 'help' ? args[1] : args[0]} `));
      expect(r.stdout).not.toContain('quiver validate');
    }
    expect(quiver('help', 'frobnicate').code).toBe(2);
  });

  test('a reader that stops early (quiver ... | head) ends the command quietly, not with an EPIPE stack', () => {
    // `head -1` closes the pipe after the first line; validate prints one line per stage after it.
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${join(repoRoot, 'src/cli/quiver.mjs')}" validate test/fixtures/generated.yaml | head -c 1 >/dev/null`], { cwd: repoRoot, encoding: 'utf8' });
    expect(r.stderr).not.toContain('EPIPE');
    expect(r.stderr).not.toContain('at ');
  });

  test('validate: 0 and a summary for a valid file; 2 and one sentence per problem otherwise', () => {
    const ok = quiver('validate', fixture('generated.yaml'));
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('valid, 3 stages');
    expect(ok.stdout).toContain('gen: 3 partitions; id: int64, x: float64');
    const bad = quiver('validate', fixture('broken.yaml'));
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toEqual([
      "test/fixtures/broken.yaml:5: stage 'dbl': stage file './stages.ts' has no export 'doubel' (stages it exports: appendOnce, burn, crashOnce, double, hang, hogOnce, picky, record, tally, withTotal)",
      'test/fixtures/broken.yaml:8: the stages form a cycle: a -> b -> a',
    ]);
    expect(quiver('validate', 'nope.yaml')).toMatchObject({ code: 2, stderr: 'nope.yaml: cannot read workflow: no such file\n' });
  });

  test('validate names a file of a glob it cannot read: a problem under onError fail, told but valid under quarantine', () => {
    const dir = scratchDir();
    writeFileSync(join(dir, 'a.csv'), ''); // nothing to take the columns from
    writeFileSync(join(dir, 'b.csv'), 'id,x\n1,0.5\n');
    const file = (onError: string) => {
      const path = join(dir, `${onError}.yaml`);
      writeFileSync(path, `name: glob\nstages:\n  - id: read\n    use: source.csv\n    with: { path: "*.csv" }\n    onError: ${onError}\n` +
        '  - id: out\n    use: sink.parquet\n    from: read\n    with: { path: all.parquet }\n');
      return path;
    };
    const failing = quiver('validate', file('fail'));
    expect(failing.code).toBe(2);
    expect(failing.stderr).toMatch(/stage 'read' \(source\.csv\): .*a\.csv:1: empty file.* \(cannot be read\)\n/);
    const tolerant = quiver('validate', file('quarantine'));
    expect(tolerant.code).toBe(0);
    expect(tolerant.stderr).toMatch(/a\.csv:1: empty file.* \(will be quarantined\)\n/);
    expect(tolerant.stdout).toContain('read: 2 partitions');
  });

  test('run --json prints one summary object; the record and outputs are where it says', () => {
    const out = scratchDir();
    const run = quiver('run', fixture('generated.yaml'), '--out', out, '--json', '--set', 'partitions=4', '--workers', '2');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(Object.keys(summary)).toEqual(expect.arrayContaining(['runId', 'status', 'stages', 'outputs', 'manifest']));
    expect(summary.status).toBe('ok');
    expect(summary.stages.map((s: { id: string }) => s.id)).toEqual(['gen', 'dbl', 'rec']);
    for (const s of summary.stages) expect(Object.keys(s)).toEqual(expect.arrayContaining(['id', 'tasks', 'cached', 'rowsIn', 'rowsOut', 'quarantined', 'seconds']));
    expect(summary.stages[0]).toMatchObject({ tasks: 4, rowsOut: 4000 });
    expect(summary.outputs).toEqual([join(out, 'rec.json')]);
    expect(JSON.parse(readFileSync(summary.manifest, 'utf8')).params).toEqual({ partitions: 4, fail: false });
  });

  test('run: a failing run exits 1 naming the stage; an invalid one exits 2; bad flags exit 2', () => {
    const out = scratchDir();
    const failed = quiver('run', fixture('generated.yaml'), '--out', out, '--set', 'fail=true');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/stage 'dbl' on partition generated-0000\d: asked to fail/);
    expect(failed.stdout).toContain('FAILED');
    const invalid = quiver('run', fixture('generated.yaml'), '--out', out, '--set', 'partitions=-1');
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain("stage 'gen' (source.generate): 'partitions'");
    expect(quiver('run', fixture('generated.yaml'), '--workers', 'lots').code).toBe(2);
    expect(quiver('run', fixture('generated.yaml'), '--frobnicate').code).toBe(2);
  });

  test('inspect shows the schema and first rows a source reads, with that source\'s inference', async () => {
    const csv = quiver('inspect', 'data/finance/vega_sp500-2000.csv', '--rows', '2', '--json');
    expect(csv.code).toBe(0);
    const shown = JSON.parse(csv.stdout);
    expect(shown.format).toBe('source.csv');
    expect(shown.schema.map((f: { name: string; type: string }) => `${f.name}: ${f.type}`)).toEqual([
      'date: timestamp[ms, UTC]', 'open: float64', 'high: float64', 'low: float64', 'close: float64', 'adjclose: float64', 'volume: int64',
    ]);
    const [first] = await duckdb(`SELECT open, close, volume FROM read_csv('${join(repoRoot, 'data/finance/vega_sp500-2000.csv')}') LIMIT 1`);
    expect(shown.rows[0]).toMatchObject({ date: '2000-01-03T00:00:00.000Z', open: first[0], close: first[1], volume: Number(first[2]) });
    expect(shown.rows).toHaveLength(2);
    const text = quiver('inspect', 'data/finance/pyalgotrade_nt-spy-minute-2011-03.csv', '--with', 'header=false', '--with', 'delimiter=";"');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('column_1: utf8');
    expect(quiver('inspect', 'README.md').stderr).toContain("no connector reads '.md'");
  });

  test('graph prints Mermaid or dot', () => {
    const mermaid = quiver('graph', fixture('generated.yaml'));
    expect(mermaid.code).toBe(0);
    expect(mermaid.stdout).toContain('gen --> dbl');
    expect(mermaid.stdout).toContain('dbl --> rec');
    const dot = quiver('graph', fixture('generated.yaml'), '--format', 'dot');
    expect(dot.stdout).toContain('"gen" -> "dbl";');
    expect(quiver('graph', fixture('broken.yaml')).code).toBe(2);
  });
});

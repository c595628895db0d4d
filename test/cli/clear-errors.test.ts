// Errors the user study found unclear (issue 16), each now one sentence naming the file, the stage
// where there is one, and the cause: a YAML alias bomb, a partition count no run could hold, a key
// named __proto__ that was silently dropped; and quarantine files holding `_source` once.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { duckdb, repoRoot, scratchDir } from '../helpers.ts';

const quiver = (...args: string[]) => {
  const result = spawnSync(process.execPath, [join(repoRoot, 'src/cli/quiver.mjs'), ...args], { cwd: repoRoot, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};
const dir = scratchDir();
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};
const generate = (extra: string) => `name: g
stages:
  - id: gen
    use: source.generate
    with: { partitions: 1, rows: 3${extra} }
  - id: out
    use: sink.csv
    from: gen
    with: { path: o.csv }
`;

describe('clear errors', () => {
  test('a YAML alias bomb is refused at its first alias, before it is expanded', () => {
    const layers = ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefghi'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(', ')}]`)];
    const bomb = file('bomb.yaml', `${layers.join('\n')}\n${generate('')}`);
    const run = quiver('run', bomb, '--out', join(dir, 'out'));
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`${bomb}:2: YAML: aliases (*name) expand to more than 100 copies of their anchors, as a file made to exhaust memory does; the workflow is refused\n`);
  });

  test('a partition count past 1,000,000 is refused naming the stage, not "Invalid array length"', () => {
    const big = file('big.yaml', generate('').replace('partitions: 1', 'partitions: 1e12'));
    const run = quiver('run', big, '--out', join(dir, 'out'));
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`${big}:3: stage 'gen' (source.generate): 'partitions': at most 1,000,000 partitions (each is a task with its own cache entry); put more rows in each instead (got 1000000000000)\n`);
  });

  test('a key named __proto__ is refused where it is written, not silently dropped', () => {
    const proto = file('proto.yaml', `${generate('')}  - id: more
    use: table.derive
    from: gen
    with: { columns: { __proto__: "id + 1", twice: "id * 2" } }
`);
    const run = quiver('run', proto, '--out', join(dir, 'out'));
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`${proto}:13: stage 'more': the key '__proto__' is refused: settings become JavaScript objects, which would drop it silently; give the column another name in the data\n`);
  });

  test('a quarantined row of a source that gives _source has it once, naming the file', async () => {
    writeFileSync(join(dir, 'damaged.dcm'), 'not DICOM');
    const flow = file('dicom.yaml', `name: d
stages:
  - id: scans
    use: source.dicom
    with: { path: "*.dcm" }
    onError: quarantine
  - id: out
    use: sink.parquet
    from: scans
    with: { path: scans.parquet }
`);
    const out = join(dir, 'dicom-out');
    expect(quiver('run', flow, '--out', out).code).toBe(0);
    const columns = (await duckdb(`SELECT column_name FROM (DESCRIBE SELECT * FROM '${join(out, '_quarantine', 'scans.parquet')}')`)).map(([c]) => c);
    expect(columns.filter((c) => String(c).startsWith('_source'))).toEqual(['_source']);
    expect(await duckdb(`SELECT _source, _stage FROM '${join(out, '_quarantine', 'scans.parquet')}'`)).toEqual([['damaged.dcm', 'scans']]);
  });
});

// No patient identity outside de-identified rows (issue 16): a CT and an MR series with patient
// names, IDs and birth dates, and a damaged file, through a workflow whose stage before
// medical.deidentify rejects the CT. Quarantined rows are de-identified like good ones, the damaged
// file's name is keyed like `_source`, and when that stage fails the run the error names rows and
// the stage, not who they belong to. Every file the run, its report and crate leave is searched.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { dicomFile } from '../fixtures/dicom-file.ts';
import { duckdb, repoRoot, scratchDir } from '../helpers.ts';

const env = { ...process.env, QUIVER_PSEUDONYM_KEY: 'test-key-not-a-secret-0123456789' };
const quiver = (...args: string[]) => {
  const result = spawnSync(process.execPath, [join(repoRoot, 'src/cli/quiver.mjs'), ...args], { cwd: repoRoot, encoding: 'utf8', env });
  return { code: result.status, output: result.stdout + result.stderr };
};
const files = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]));

const patients = [
  { folder: 'ct-series', Modality: 'CT', PatientName: 'DOE^JANE', PatientID: 'MRN-4711', PatientBirthDate: '19610203', uid: '1.2.826.0.1.3680043.99.1' },
  { folder: 'mr-series', Modality: 'MR', PatientName: 'ROE^RICHARD', PatientID: 'MRN-0815', PatientBirthDate: '19721130', uid: '1.2.826.0.1.3680043.99.2' },
];
const phi = patients.flatMap((p) => [p.PatientName, p.PatientID, p.PatientBirthDate, p.uid]);

const dir = scratchDir();
for (const { folder, uid, ...attributes } of patients) {
  mkdirSync(join(dir, 'archive', folder), { recursive: true });
  for (let z = 0; z < 2; z++) {
    const slice = dicomFile({ ...attributes, StudyInstanceUID: uid, SeriesInstanceUID: `${uid}.1`, SOPInstanceUID: `${uid}.1.${z}`, ImagePositionPatient: `0\\0\\${z}` }, 4, 4, new Int16Array(16).fill(z));
    writeFileSync(join(dir, 'archive', folder, `slice${z}.dcm`), slice);
  }
}
mkdirSync(join(dir, 'archive', 'inbox'));
writeFileSync(join(dir, 'archive', 'inbox', 'damaged-0042.dcm'), 'not DICOM at all');

const workflow = (onError: string) => `name: no-phi
stages:
  - id: series
    use: source.dicom
    with: { path: "archive/**/*.dcm", attributes: [PatientName, PatientID, PatientBirthDate, StudyInstanceUID] }
    onError: quarantine
  - id: only-mr
    use: table.require
    from: series
    ${onError}
    with: { where: "modality == 'MR'" }
  - id: private
    use: medical.deidentify
    from: only-mr
  - id: out
    use: sink.parquet
    from: private
    with: { path: series.parquet }
`;
writeFileSync(join(dir, 'quarantine.yaml'), workflow('onError: quarantine'));
// A user stage before de-identification whose error quotes the row it failed on.
writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
writeFileSync(join(dir, 'leaky.ts'), `export { leaky } from ${JSON.stringify(join(repoRoot, 'test/fixtures/leaky.ts'))};\n`);
writeFileSync(join(dir, 'leaky.yaml'), workflow('onError: quarantine').replace('use: table.require', 'use: ./leaky.ts#leaky').replace(`with: { where: "modality == 'MR'" }`, ''));
writeFileSync(join(dir, 'leaky-fail.yaml'), workflow('').replace('use: table.require', 'use: ./leaky.ts#leaky').replace(`with: { where: "modality == 'MR'" }`, ''));
writeFileSync(join(dir, 'fail.yaml'), workflow(''));

function expectNoPhi(text: string, where: string) {
  for (const value of phi) expect(text.includes(value), `${value} in ${where}`).toBe(false);
  expect(text.includes('damaged-0042'), `the damaged file's name in ${where}`).toBe(false);
}
const outputsOf = (out: string) => files(out).filter((f) => !f.includes('manifest.json') && !f.includes('report.html') && !f.includes('ro-crate'));

describe('no patient identity outside de-identified rows', () => {
  test('quarantined rows before de-identification are de-identified; the damaged file is named by its key', async () => {
    const out = join(dir, 'q');
    const run = quiver('run', join(dir, 'quarantine.yaml'), '--out', out);
    expect(run.code, run.output).toBe(0);
    expectNoPhi(run.output, 'run output');
    for (const file of outputsOf(out)) expectNoPhi(readFileSync(file).toString('latin1'), file);
    // Parquet may compress: read the rows back as well.
    const rejected = await duckdb(`SELECT PatientName, PatientID, PatientBirthDate, _source, _error FROM '${join(out, '_quarantine', 'only-mr.parquet')}'`);
    expect(rejected).toHaveLength(1);
    const [name, id, birth, source, error] = rejected[0];
    expect([name, birth]).toEqual(['', '']);
    expect(String(id)).toMatch(/^P[0-9a-f]{16}$/);
    expect(String(source)).toMatch(/^F[0-9a-f]{16}$/);
    expect(error).toBe("does not satisfy modality == 'MR'");
    const [[damaged, why]] = await duckdb(`SELECT _source, _error FROM '${join(out, '_quarantine', 'series.parquet')}'`);
    expect(String(damaged)).toMatch(/^F[0-9a-f]{16}$/);
    expect(why).toBe(`${damaged}: not a DICOM Part 10 file: no "DICM" after the 128-byte preamble`);
    const columns = (await duckdb(`SELECT column_name FROM (DESCRIBE SELECT * FROM '${join(out, '_quarantine', 'series.parquet')}')`)).map(([c]) => c);
    expect(columns.filter((c) => c === '_source')).toHaveLength(1);
    const good = await duckdb(`SELECT PatientName, PatientID FROM '${join(out, 'series.parquet')}'`);
    expect(good).toHaveLength(1);
    expect(String(good[0][1])).toMatch(/^P[0-9a-f]{16}$/);
    for (const text of [JSON.stringify(rejected), JSON.stringify(good)]) expectNoPhi(text, 'decoded rows');
  });

  test("a user stage before de-identification whose error quotes the row: the row's text is withheld in stderr, log, record and quarantine", async () => {
    const failed = quiver('run', join(dir, 'leaky-fail.yaml'), '--out', join(dir, 'leaky-f'));
    expect(failed.code).toBe(1);
    expect(failed.output).toMatch(/stage 'only-mr' on partition F[0-9a-f]{16}: cannot handle the row \[value withheld\]/);
    expectNoPhi(failed.output, 'stderr');
    for (const file of files(join(dir, 'leaky-f', '.quiver', 'runs'))) {
      const text = readFileSync(file).toString('latin1');
      for (const value of phi) expect(text.includes(value), `${value} in ${file}`).toBe(false);
    }
    const out = join(dir, 'leaky-q');
    const run = quiver('run', join(dir, 'leaky.yaml'), '--out', out);
    expect(run.code, run.output).toBe(0);
    expectNoPhi(run.output, 'run output');
    for (const file of outputsOf(out)) expectNoPhi(readFileSync(file).toString('latin1'), file);
    const errors = await duckdb(`SELECT _error FROM '${join(out, '_quarantine', 'only-mr.parquet')}'`);
    expect(errors).toHaveLength(2);
    for (const [error] of errors) expect(String(error)).toMatch(/^cannot handle the row \[value withheld\]/);
  });

  test('a stage before de-identification that fails: stderr, log, record, report and crate name the stage and rows, not the patient', () => {
    const out = join(dir, 'f');
    const run = quiver('run', join(dir, 'fail.yaml'), '--out', out);
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/stage 'only-mr' on partition F[0-9a-f]{16}: 1 of the batch's 1 rows do not satisfy modality == 'MR' \(rows 0, counting from 0\)/);
    expectNoPhi(run.output, 'stderr');
    expect(quiver('report', 'latest', '--out', out).code).toBe(0);
    expect(quiver('export', 'latest', '--out', out, '--to', join(dir, 'crate')).code).toBe(0);
    const runFiles = files(join(out, '.quiver', 'runs'));
    expect(runFiles.some((f) => f.endsWith('log.jsonl'))).toBe(true);
    // The run record lists the input files by name, as read (they are the run's inputs): search it for the patient only.
    for (const file of [...runFiles, ...files(join(dir, 'crate'))]) {
      const text = readFileSync(file).toString('latin1');
      for (const value of phi) expect(text.includes(value), `${value} in ${file}`).toBe(false);
      if (file.endsWith('log.jsonl')) expect(text.includes('ct-series'), `a file name in ${file}`).toBe(false);
    }
  });
});

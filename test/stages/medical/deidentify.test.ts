// medical.deidentify: the PS3.15 basic-profile actions on attribute columns, pseudonyms that are
// stable under one key and change with it, and a missing or short key refused before any row.
import { Field, Schema, Utf8, vectorFromArray } from 'apache-arrow';
import { afterEach, describe, expect, test } from 'vitest';
import { makeBatch } from '../../../src/arrow/batch.ts';
import { deidentify, deidentifyValue } from '../../../src/stages/medical/deidentify.ts';

const columns = ['_source', 'series', 'PatientName', 'PatientID', 'PatientAge', 'StudyInstanceUID', 'Modality'];
const schema = new Schema(columns.map((c) => new Field(c, new Utf8(), true)));
const batch = makeBatch(schema, [
  ['smith_john/ct/1.dcm', 'a1', 'Smith^John', 'MRN-0042', '054Y', '1.2.840.113619.2.1', 'CT'],
  ['smith_john/ct/2.dcm', 'a2', 'Smith^John', 'MRN-0042', '054Y', '1.2.840.113619.2.1', 'CT'],
  ['doe_jane/mr/1.dcm', 'b1', 'Doe^Jane', 'MRN-0077', '061Y', '1.2.840.113619.2.9', 'MR'],
].reduce<string[][]>((cols, row) => cols.map((c, i) => [...c, row[i]]), columns.map(() => [])).map((values) => vectorFromArray(values, new Utf8()).data[0]), 3);

function run(key: string | undefined) {
  if (key === undefined) delete process.env.QUIVER_TEST_KEY;
  else process.env.QUIVER_TEST_KEY = key;
  const params = deidentify.params.parse({ key_env: 'QUIVER_TEST_KEY' });
  const outputSchema = deidentify.outputSchema({ params, inputs: [schema], baseDir: '.' });
  return deidentify.create(params, { inputSchema: schema, outputSchema, baseDir: '.' }) as (b: typeof batch) => typeof batch;
}

afterEach(() => delete process.env.QUIVER_TEST_KEY);

describe('medical.deidentify', () => {
  test('basic profile: names emptied, age removed, UIDs replaced, modality kept; one patient one pseudonym', () => {
    const out = run('a-key-of-sixteen-or-more')(batch);
    expect(out.schema.fields.map((f) => f.name)).toEqual(['_source', 'series', 'PatientName', 'PatientID', 'StudyInstanceUID', 'Modality']);
    const rows = out.toArray().map((r) => r.toJSON());
    expect(rows.map((r) => r.PatientName)).toEqual(['', '', '']);
    expect(rows.map((r) => r.Modality)).toEqual(['CT', 'CT', 'MR']);
    expect(rows[0].PatientID).toMatch(/^P[0-9a-f]{16}$/);
    expect(rows[1].PatientID).toBe(rows[0].PatientID);
    expect(rows[2].PatientID).not.toBe(rows[0].PatientID);
    expect(rows[0].StudyInstanceUID).toMatch(/^2\.25\.\d{30,39}$/);
    expect(rows[1].StudyInstanceUID).toBe(rows[0].StudyInstanceUID);
    for (const r of rows) expect(JSON.stringify(r)).not.toMatch(/smith|john|doe|jane|MRN|113619|054Y/i);
  });

  test('the same key gives the same pseudonyms in another run; another key, others', () => {
    const first = run('a-key-of-sixteen-or-more')(batch).getChild('PatientID')!.toArray();
    const again = run('a-key-of-sixteen-or-more')(batch).getChild('PatientID')!.toArray();
    const other = run('another-key-sixteen-long')(batch).getChild('PatientID')!.toArray();
    expect(again).toEqual(first);
    expect(other[0]).not.toBe(first[0]);
    expect(deidentifyValue('P', '', 'k'.repeat(16))).toBe('');
  });

  test('no key, or a short one, is refused saying how to set it', () => {
    expect(() => run(undefined)).toThrow('no pseudonym key: set the environment variable QUIVER_TEST_KEY to a secret of at least 16 characters');
    expect(() => run('short')).toThrow('the pseudonym key in QUIVER_TEST_KEY has 5 characters; use at least 16');
  });
});

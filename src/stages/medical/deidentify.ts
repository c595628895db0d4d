// `medical.deidentify`: the DICOM PS3.15 Basic Application Level Confidentiality Profile (Table
// E.1-1) applied to the attribute columns source.dicom adds on request, with a keyed pseudonym for
// PatientID so one patient's series stay linked across runs without saying who they are:
//   X  remove            the column is dropped
//   Z  empty             every value becomes '' (the attribute stays, empty)
//   U  replace UID       2.25.<decimal of a keyed hash>: the same UID in gives the same UID out
//   P  pseudonym         PatientID → 'P' + 16 hex digits of HMAC-SHA256(key, PatientID)
// Where the profile allows several actions (X/Z/D, X/D) the strictest, X, is taken. Columns the
// profile does not list (Modality, Rows, …) are kept. `series` and `_source` (a file path can name
// a patient) become keyed hashes too. The key comes from the environment (`key_env`), never from
// the workflow file: the run record holds only its fingerprint, an HMAC of a fixed text, so a new
// key makes new outputs and cached ones are not reused. Rows quarantined before this stage get the
// same treatment (`privacy`), and the files they came from the same names as `_source` here.
import { createHmac } from 'node:crypto';
import { Schema, Type, Utf8, vectorFromArray, type Field, type RecordBatch, type Vector } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { SchemaError } from '../../workflow/errors.ts';
import { defineMap } from '../../workflow/stage.ts';

type Action = 'X' | 'Z' | 'U' | 'P';

/** PS3.15 Table E.1-1, Basic Profile column, for the attributes source.dicom can give. */
export const basicProfile: Record<string, Action> = {
  PatientName: 'Z', PatientID: 'P', PatientBirthDate: 'Z', PatientSex: 'Z', PatientAge: 'X', PatientWeight: 'X',
  StudyDate: 'Z', StudyTime: 'Z', SeriesDate: 'X', SeriesTime: 'X', AcquisitionDate: 'X', ContentDate: 'Z',
  AccessionNumber: 'Z', StudyID: 'Z', InstitutionName: 'X', InstitutionAddress: 'X', ReferringPhysicianName: 'Z',
  PerformingPhysicianName: 'X', OperatorsName: 'X', StationName: 'X', StudyDescription: 'X', SeriesDescription: 'X',
  DeviceSerialNumber: 'X', StudyInstanceUID: 'U', SeriesInstanceUID: 'U', SOPInstanceUID: 'U',
};

const params = z.object({
  key_env: z.string().min(1).default('QUIVER_PSEUDONYM_KEY').describe('the environment variable holding the secret key (at least 16 characters)'),
}).strict();

function keyOf(name: string): string {
  const key = process.env[name];
  if (!key) throw new Error(`no pseudonym key: set the environment variable ${name} to a secret of at least 16 characters, the same for every run whose patients must link`);
  if (key.length < 16) throw new Error(`the pseudonym key in ${name} has ${key.length} characters; use at least 16`);
  return key;
}

const keyed = (key: string, kind: string, value: string) => createHmac('sha256', key).update(`${kind}\0${value}`).digest('hex');

/** A value under an action, with `key`. */
export function deidentifyValue(action: Action, value: string | null, key: string): string | null {
  if (value === null) return null;
  switch (action) {
    case 'Z': return '';
    case 'P': return value === '' ? '' : `P${keyed(key, 'PatientID', value).slice(0, 16)}`;
    case 'U': return value === '' ? '' : `2.25.${BigInt(`0x${keyed(key, 'UID', value).slice(0, 32)}`).toString()}`;
    default: return value;
  }
}

const actionOf = (name: string): Action | undefined => (name === '_source' || name === 'series' ? 'P' : basicProfile[name]);

/** A file's keyed name, as `_source` holds it after de-identification. */
const fileAlias = (key: string, name: string) => `F${keyed(key, 'file', name).slice(0, 16)}`;

/** A kept column as the profile leaves it; `_source` and `series` become keyed hashes. */
function deidentifyColumn(field: Field, column: Vector, key: string) {
  const action = actionOf(field.name);
  if (!action) return column.data[0];
  const values = Array.from({ length: column.length }, (_, r) => {
    const v = column.get(r) as string | null;
    if (v === null) return null;
    if (field.name === '_source') return fileAlias(key, v);
    if (field.name === 'series') return `S${keyed(key, 'series', v).slice(0, 16)}`;
    return deidentifyValue(action, v, key);
  });
  return vectorFromArray(values, new Utf8()).data[0];
}

/** Any rows (a quarantine file's, with whatever columns): profile columns it cannot rewrite as text are dropped. */
function deidentifyRows(batch: RecordBatch, key: string): RecordBatch {
  const kept = batch.schema.fields.filter((f) => basicProfile[f.name] !== 'X' && !(actionOf(f.name) && f.type.typeId !== Type.Utf8));
  const schema = new Schema(kept, batch.schema.metadata);
  return makeBatch(schema, kept.map((f) => deidentifyColumn(f, batch.getChild(f.name)!, key)), batch.numRows);
}

export const deidentify = defineMap({
  name: 'medical.deidentify',
  kind: 'map',
  version: '1',
  description: 'DICOM PS3.15 basic profile on attribute columns (remove, empty, replace UIDs) and a keyed pseudonym for PatientID; series and file names hashed with the key.',
  params,
  fingerprint: (p) => keyed(keyOf(p.key_env), 'fingerprint', 'quiver medical.deidentify'),
  outputSchema({ inputs: [input] }) {
    const kept = input.fields.filter((f) => basicProfile[f.name] !== 'X');
    for (const f of kept) {
      if ((basicProfile[f.name] || f.name === '_source' || f.name === 'series') && f.type.typeId !== new Utf8().typeId) {
        throw new SchemaError(`column '${f.name}' must be text to be de-identified, not ${String(f.type)}`);
      }
    }
    return new Schema(kept, input.metadata);
  },
  create(p, { outputSchema }) {
    const key = keyOf(p.key_env);
    return (batch: RecordBatch) => makeBatch(outputSchema, outputSchema.fields.map((f) => deidentifyColumn(f, batch.getChild(f.name)!, key)), batch.numRows);
  },
  privacy(p) {
    const key = keyOf(p.key_env);
    return { rows: (batch) => deidentifyRows(batch, key), file: (name) => fileAlias(key, name) };
  },
});

// `source.dicom`: DICOM Part 10 files → one row per series (one partition each). Files are grouped
// by SeriesInstanceUID, sorted along the slice normal (series.ts), decoded (pixels.ts, codecs.ts)
// and rescaled (RescaleSlope/Intercept, per slice: HU for CT) into a float32 volume
// [slice, row, column] with its spacing, RAS origin, direction and affine (voxel i = column,
// j = row, k = slice → RAS mm, NIfTI's convention, so a mask written back lands on the anatomy).
// A file that is not DICOM, is damaged, or holds no image is a partition of its own whose read
// fails naming the file and cause: under `onError: quarantine` it is quarantined, the run goes on.
// Patient attributes never leave this stage unless `attributes` names them; `series` is a hash
// of the SeriesInstanceUID, so rows link without the UID (medical.deidentify keys pseudonyms).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Field, Schema, Utf8, vectorFromArray } from 'apache-arrow';
import { z } from 'zod';
import { InputError, messageOf } from '../../src/workflow/errors.ts';
import { defineSource, type Chunk } from '../../src/workflow/stage.ts';
import { parseDicom, type DicomFile } from './dataset.ts';
import { tags, type Keyword } from './dictionary.ts';
import { pixelModule, storedValues } from './pixels.ts';
import { lpsToRas, seriesGeometry } from './series.ts';
import { mapLimited, matchFiles } from '../../src/io/input-files.ts';
import { volumeBatch, volumeFields } from '../../src/arrow/volume-row.ts';

const keywords = Object.keys(tags).filter((k) => k !== 'PixelData') as [Keyword, ...Keyword[]];

const params = z.object({
  path: z.string().min(1).describe('a file or a glob (archives: "export/**/*"); relative to the workflow folder'),
  uneven_spacing: z.enum(['error', 'resample']).default('error').describe('slices unevenly spaced: fail, or interpolate onto an even grid of the smallest gap'),
  missing: z.enum(['error', 'empty']).default('error').describe('no file matching: an error, or no rows (a workflow taking DICOM or NIfTI)'),
  attributes: z.array(z.enum(keywords)).default([]).describe('attributes to add as text columns (the first slice\'s); patient attributes only this way'),
}).strict();

interface SeriesChunk extends Chunk {
  files: { path: string; key: string }[];
  /** Why the files do not make a series (unreadable, not an image): read fails with it. */
  problem?: string;
  /** Grouped by folder and geometry, the files having no SeriesInstanceUID. */
  guessed?: boolean;
}

const hash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

export const dicomSource = defineSource({
  name: 'source.dicom',
  kind: 'source',
  version: '1',
  description: 'DICOM Part 10 series as volumes (HU for CT) with spacing, origin, direction and RAS affine; one partition per series; unreadable files fail alone.',
  extensions: ['.dcm', '.dicom'],
  params,
  async discover(p, ctx) {
    const files = await matchFiles(p.path, ctx, p.missing === 'empty');
    const scanned = await mapLimited(files, 8, async (f) => {
      const bytes = await readFile(f.path);
      const sha = createHash('sha256').update(bytes).digest('hex');
      try {
        const file = parseDicom(bytes);
        if (!file.dataset.has('PixelData')) return { f, sha, problem: `no PixelData: not an image (SOP class ${file.dataset.string('SOPClassUID') ?? 'unknown'})` };
        const uid = file.dataset.string('SeriesInstanceUID');
        if (uid) return { f, sha, series: uid };
        // Anonymisers sometimes blank the UID: the folder and the image geometry stand in for it.
        const ds = file.dataset;
        const like = [dirname(f.path), ds.numbers('ImageOrientationPatient')?.map((v) => v.toFixed(4)), ds.number('Rows'), ds.number('Columns'), ds.numbers('PixelSpacing')];
        return { f, sha, series: `no SeriesInstanceUID: ${JSON.stringify(like)}`, guessed: true };
      } catch (error) {
        return { f, sha, problem: messageOf(error) };
      }
    });
    const groups = new Map<string, typeof scanned>();
    for (const s of scanned) {
      const group = s.problem !== undefined ? `unreadable: ${s.f.key}` : s.series!;
      if (!groups.has(group)) groups.set(group, []);
      groups.get(group)!.push(s);
    }
    const partitions = [...groups.values()].map((members) => {
      const chunk: SeriesChunk = { files: members.map((m) => ({ path: m.f.path, key: m.f.key })), problem: members[0].problem, guessed: members[0].guessed };
      return {
        key: members[0].f.key,
        // The series' files: any change to any of them is a new partition.
        fingerprint: hash(members.map((m) => `${m.f.key}:${m.sha}`).join('\n')),
        bytes: members.reduce((a, m) => a + m.f.bytes, 0),
        chunks: () => [chunk],
      };
    });
    return { schema: new Schema([...volumeFields, ...p.attributes.map((k) => new Field(k, new Utf8(), true))]), partitions };
  },
  async *read(raw, p, { schema }) {
    const chunk = raw as SeriesChunk;
    if (chunk.problem) throw new InputError(chunk.files[0].key, chunk.problem);
    yield await readSeries(chunk, p, schema);
  },
});

async function readSeries(chunk: SeriesChunk, p: z.output<typeof params>, schema: Schema) {
  const slices: { key: string; file: DicomFile }[] = [];
  for (const f of chunk.files) {
    try {
      slices.push({ key: f.key, file: parseDicom(await readFile(f.path)) });
    } catch (error) {
      throw new InputError(f.key, messageOf(error));
    }
  }
  const where = chunk.files.length === 1 ? chunk.files[0].key : `${chunk.files[0].key} and ${chunk.files.length - 1} more of its series`;
  let geometry;
  try {
    geometry = seriesGeometry(slices.map(({ key, file }) => {
      const ds = file.dataset;
      return {
        key, rows: ds.number('Rows') ?? 0, columns: ds.number('Columns') ?? 0,
        position: ds.numbers('ImagePositionPatient'), orientation: ds.numbers('ImageOrientationPatient'), pixelSpacing: ds.numbers('PixelSpacing'),
        thickness: ds.number('SpacingBetweenSlices') ?? ds.number('SliceThickness'),
      };
    }), p.uneven_spacing);
  } catch (error) {
    throw new InputError(where, messageOf(error));
  }
  const first = slices[geometry.order[0]].file;
  const rows = first.dataset.number('Rows')!;
  const columns = first.dataset.number('Columns')!;
  const plane = rows * columns;
  // Each slice in physical units (its own slope and intercept), in volume order.
  const planes: Float32Array[] = [];
  for (const index of geometry.order) {
    const { key, file } = slices[index];
    try {
      const m = pixelModule(file);
      if (m.frames !== 1) throw new Error(`${m.frames} frames: multi-frame images are not read as series slices yet`);
      const stored = await storedValues(file, m);
      const slope = file.dataset.number('RescaleSlope') ?? 1;
      const intercept = file.dataset.number('RescaleIntercept') ?? 0;
      planes.push(Float32Array.from(stored, (v) => v * slope + intercept));
    } catch (error) {
      throw new InputError(key, messageOf(error));
    }
  }
  const depth = geometry.resampled ? geometry.resampled.from.length : planes.length;
  const values = new Float32Array(depth * plane);
  for (let k = 0; k < depth; k++) {
    const target = values.subarray(k * plane, (k + 1) * plane);
    if (!geometry.resampled) target.set(planes[k]);
    else {
      const { lower, upper, weight } = geometry.resampled.from[k];
      for (let i = 0; i < plane; i++) target[i] = (1 - weight) * planes[lower][i] + weight * planes[upper][i];
    }
  }
  const ds = first.dataset;
  const header = {
    Modality: ds.string('Modality'), Manufacturer: ds.string('Manufacturer'), TransferSyntaxUID: first.transferSyntax,
    Rows: rows, Columns: columns, SliceThickness: ds.number('SliceThickness'), GantryDetectorTilt: ds.number('GantryDetectorTilt'),
    RescaleSlope: ds.number('RescaleSlope'), RescaleIntercept: ds.number('RescaleIntercept'), BitsStored: ds.number('BitsStored'),
    PhotometricInterpretation: ds.string('PhotometricInterpretation'), files: slices.length, tilt_deg: geometry.tiltDeg,
    resampled: geometry.resampled !== undefined,
    assumed: [...(chunk.guessed ? ['series (no SeriesInstanceUID: grouped by folder, orientation, size and pixel spacing)'] : []), ...geometry.assumed],
  };
  const attribute = (k: Keyword) => (['US', 'SS', 'UL', 'SL', 'FL', 'FD'].includes(tags[k][1]) ? ds.numbers(k)?.join('\\') : ds.string(k));
  try {
    // The batch reads the affine's axis codes, which damaged orientations do not give.
    return volumeBatch(schema, {
      source: chunk.files[0].key, series: hash(ds.string('SeriesInstanceUID') || chunk.files.map((f) => f.key).join('\n')), modality: ds.string('Modality'),
      values, shape: [depth, rows, columns], spacing: geometry.spacing, affine: lpsToRas(geometry.affineLps), header,
    }, p.attributes.map((k) => vectorFromArray([attribute(k) ?? null], new Utf8()).data[0]));
  } catch (error) {
    throw new InputError(where, messageOf(error));
  }
}

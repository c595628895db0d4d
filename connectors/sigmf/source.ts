// `source.sigmf`: SigMF recordings of pulsed radar (a `.sigmf-meta` JSON file beside its
// `.sigmf-data` samples). Radar geometry comes from the `radar:` namespace of the meta file
// (`pulses_per_cpi`, `samples_per_pulse`, `pri_s`, optional `pulse_width_s`, `chirp_bandwidth_hz`,
// `record_gate_start_s`, `element_spacing_m`). Samples are time-ordered — pulse (slow) × range
// sample (fast) — with `core:num_channels` channels interleaved per sample. A data file holds one
// or more coherent processing intervals (CPIs); each CPI is a partition, and becomes one row per
// channel whose `data` is a [pulses, samples, 2] tensor of (I, Q) (DESIGN.md §4).
import { open } from 'node:fs/promises';
import { Field, Float64, Int32, makeData, Schema, Utf8, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../src/arrow/batch.ts';
import { tensorData, tensorField } from '../../src/arrow/tensor.ts';
import { hashParts } from '../../src/cache/hash.ts';
import { InputError } from '../../src/workflow/errors.ts';
import { defineSource, type Chunk } from '../../src/workflow/stage.ts';
import { describeEach, firstReadable, partitionsOf } from '../../src/io/file-discovery.ts';
import { checkInsideRoots, matchFiles, readAt } from '../../src/io/input-files.ts';
import { checkPartitionCount, checkTaskMemory } from '../../src/io/limits.ts';

const params = z.object({
  path: z.string().min(1).describe('a .sigmf-meta file or a glob of them; relative to the workflow folder'),
}).strict();

/** Bytes of one complex sample, how to read one component, and the tensor's value type. */
const datatypes = {
  cf32_le: { bytes: 8, read: (v: DataView, at: number) => v.getFloat32(at, true), float64: false },
  cf64_le: { bytes: 16, read: (v: DataView, at: number) => v.getFloat64(at, true), float64: true },
  ci16_le: { bytes: 4, read: (v: DataView, at: number) => v.getInt16(at, true), float64: false },
} as const;
type Datatype = keyof typeof datatypes;

export interface Geometry {
  datatype: Datatype;
  channels: number;
  pulses: number;
  samples: number;
  sampleRate: number;
  frequency: number | null;
  pri: number;
  pulseWidth: number | null;
  chirpBandwidth: number | null;
  gateStart: number | null;
  elementSpacing: number | null;
}

interface CpiChunk extends Chunk {
  data: string;
  cpi: number;
  offset: number;
  geometry: Geometry;
}

const geometryColumns: [keyof Geometry, string, 'f64' | 'i32'][] = [
  ['pulses', 'pulses', 'i32'], ['samples', 'samples', 'i32'], ['sampleRate', 'sample_rate_hz', 'f64'],
  ['frequency', 'center_frequency_hz', 'f64'], ['pri', 'pri_s', 'f64'], ['pulseWidth', 'pulse_width_s', 'f64'],
  ['chirpBandwidth', 'chirp_bandwidth_hz', 'f64'], ['gateStart', 'record_gate_start_s', 'f64'], ['elementSpacing', 'element_spacing_m', 'f64'],
];

/** A JSON object, or an InputError saying what `what` is instead. */
function object(value: unknown, file: string, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InputError(file, `${what} is ${JSON.stringify(value)?.slice(0, 40)}, not a JSON object`);
  return value as Record<string, unknown>;
}

/** The meta file's `captures` or `annotations`: a list of objects, empty if absent. */
function records(meta: Record<string, unknown>, key: string, file: string): Record<string, unknown>[] {
  const list = meta[key] ?? [];
  if (!Array.isArray(list)) throw new InputError(file, `'${key}' is not a list`);
  return list.map((item, i) => object(item, file, `${key} ${i}`));
}

function readGeometry(meta: Record<string, unknown>, file: string): Geometry {
  const global = object(meta.global ?? {}, file, "'global'");
  const num = (key: string, required: boolean): number | null => {
    const value = global[key];
    if (value === undefined || value === null) {
      if (required) throw new InputError(file, `the meta file has no '${key}' (a radar recording needs it)`);
      return null;
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new InputError(file, `'${key}' is ${JSON.stringify(value)}, not a number`);
    return value;
  };
  const datatype = global['core:datatype'];
  if (typeof datatype !== 'string' || !(datatype in datatypes)) {
    throw new InputError(file, `core:datatype ${JSON.stringify(datatype)} is not one quiver reads (${Object.keys(datatypes).join(', ')})`);
  }
  // Counts are Int32 columns and multiply into byte sizes: whole, positive, below 2^31.
  const whole = (key: string) => {
    const n = num(key, true)!;
    if (!Number.isInteger(n) || n < 1 || n > 0x7fffffff) throw new InputError(file, `'${key}' is ${n}, not a whole number from 1 to 2147483647`);
    return n;
  };
  const positive = (key: string) => {
    const n = num(key, true)!;
    if (!(n > 0)) throw new InputError(file, `'${key}' is ${n}, not a positive number`);
    return n;
  };
  const captures = records(meta, 'captures', file);
  const frequency = captures[0]?.['core:frequency'];
  return {
    datatype: datatype as Datatype,
    channels: global['core:num_channels'] === undefined ? 1 : whole('core:num_channels'),
    pulses: whole('radar:pulses_per_cpi'),
    samples: whole('radar:samples_per_pulse'),
    sampleRate: positive('core:sample_rate'),
    frequency: typeof frequency === 'number' ? frequency : null,
    pri: positive('radar:pri_s'),
    pulseWidth: num('radar:pulse_width_s', false),
    chirpBandwidth: num('radar:chirp_bandwidth_hz', false),
    gateStart: num('radar:record_gate_start_s', false),
    elementSpacing: num('radar:element_spacing_m', false),
  };
}

/** Captures and annotations must lie within the `total` samples (per channel) of the data file `dataKey`. */
function checkSampleRanges(meta: Record<string, unknown>, file: string, dataKey: string, total: number): void {
  const index = (value: unknown, what: string) => {
    if (!Number.isSafeInteger(value) || (value as number) < 0) throw new InputError(file, `${what} is ${JSON.stringify(value)}, not a sample index`);
    return value as number;
  };
  for (const [i, c] of records(meta, 'captures', file).entries()) {
    const start = index(c['core:sample_start'] ?? 0, `capture ${i}'s core:sample_start`);
    if (start >= total) throw new InputError(file, `capture ${i} starts at sample ${start}, past the ${total} samples of ${dataKey}`);
  }
  for (const [i, a] of records(meta, 'annotations', file).entries()) {
    const start = index(a['core:sample_start'] ?? 0, `annotation ${i}'s core:sample_start`);
    const count = index(a['core:sample_count'] ?? 0, `annotation ${i}'s core:sample_count`);
    if (start + count > total) throw new InputError(file, `annotation ${i} covers samples ${start}-${start + count}, past the ${total} samples of ${dataKey}`);
  }
}

/** A meta file is JSON text of a few KiB; past this it is not one (and would be read whole). */
const MAX_META_BYTES = 64 * 1024 * 1024;

/** The rows' schema for recordings of geometry `g` (every geometry column nullable if `nullable`). */
export function cpiSchema(g: Geometry): Schema {
  const tensor = tensorField('data', { shape: [g.pulses, g.samples, 2], dimNames: ['pulse', 'sample', 'iq'], kind: g.datatype === 'cf64_le' ? 'float64' : 'float32' });
  return new Schema([
    new Field('_source', new Utf8(), false), new Field('cpi', new Int32(), false), new Field('channel', new Int32(), false),
    tensor,
    ...geometryColumns.map(([key, name, type]) => new Field(name, type === 'i32' ? new Int32() : new Float64(), g[key] === null)),
  ]);
}

export const sigmfSource = defineSource({
  name: 'source.sigmf',
  kind: 'source',
  version: '1',
  description: 'SigMF radar recordings (cf32_le, cf64_le, ci16_le; channels interleaved): one partition per CPI, one row per channel with a [pulses, samples, 2] tensor.',
  extensions: ['.sigmf-meta'],
  params,
  async discover(p, ctx) {
    const files = await matchFiles(p.path, ctx);
    const described = await describeEach(files, 8, async (f) => {
      if (!f.path.endsWith('.sigmf-meta')) throw new InputError(f.key, 'is not a .sigmf-meta file (give the meta file; its .sigmf-data is found beside it)');
      if (f.bytes > MAX_META_BYTES) throw new InputError(f.key, `is ${f.bytes} bytes, more than a SigMF meta file may be (${MAX_META_BYTES})`);
      const handle = await open(f.path, 'r');
      let meta: Record<string, unknown>;
      try {
        meta = object(JSON.parse(new TextDecoder().decode(await readAt(handle, 0, f.bytes, f.key, 'the meta file'))), f.key, 'the meta file');
      } catch (error) {
        throw error instanceof InputError ? error : new InputError(f.key, `is not valid JSON: ${(error as Error).message}`);
      } finally {
        await handle.close();
      }
      const geometry = readGeometry(meta, f.key);
      const data = f.path.replace(/\.sigmf-meta$/, '.sigmf-data');
      const dataKey = f.key.replace(/\.sigmf-meta$/, '.sigmf-data');
      checkInsideRoots(data, dataKey, ctx.readRoots);
      const size = await open(data, 'r').then(async (h) => (await h.stat().finally(() => h.close())).size, () => {
        throw new InputError(dataKey, 'is missing (every .sigmf-meta needs its .sigmf-data beside it)');
      });
      const type = datatypes[geometry.datatype];
      const cpiBytes = geometry.pulses * geometry.samples * geometry.channels * type.bytes;
      const shape = `${geometry.pulses} pulses × ${geometry.samples} samples × ${geometry.channels} channels of ${geometry.datatype}`;
      if (size === 0 || size % cpiBytes !== 0) {
        throw new InputError(dataKey, `holds ${size} bytes, not a whole number of CPIs of ${cpiBytes} bytes (${shape})`);
      }
      checkSampleRanges(meta, f.key, dataKey, size / (type.bytes * geometry.channels));
      // A worker holds a CPI's bytes and its values (float32, or float64 for cf64) at once.
      checkTaskMemory(dataKey, `one CPI (${shape}) with its values`, cpiBytes + (cpiBytes / type.bytes) * (type.float64 ? 16 : 8));
      const cpis = size / cpiBytes;
      checkPartitionCount(f.key, cpis, `one per CPI of ${shape}: are radar:pulses_per_cpi and radar:samples_per_pulse the recording's?`);
      return { data, geometry, cpis, cpiBytes, fingerprint: hashParts(JSON.stringify(meta)) };
    });
    checkPartitionCount(p.path, described.reduce((n, d) => n + ('info' in d ? d.info.cpis : 0), 0), 'one per CPI of every file matched: match fewer files');
    const first = firstReadable(described);
    const sameShape = (a: Geometry, b: Geometry) => a.datatype === b.datatype && a.pulses === b.pulses && a.samples === b.samples;
    const g = (x: Geometry) => `${x.pulses} pulses × ${x.samples} samples of ${x.datatype}`;
    const readable = described.flatMap((d) => ('info' in d && sameShape(d.info.geometry, first.info.geometry) ? [d.info] : []));
    const schema = cpiSchema(first.info.geometry);
    // Nullable geometry columns if any file lacks the value.
    const nullable = new Schema(schema.fields.map((field, i) => (i < 4 ? field
      : new Field(field.name, field.type, readable.some((f) => f.geometry[geometryColumns[i - 4][0]] === null)))));
    const partitions = partitionsOf(described, (file, f) => {
      if (!sameShape(f.geometry, first.info.geometry)) {
        throw new InputError(file.key, `has ${g(f.geometry)}, but ${first.file.key} has ${g(first.info.geometry)}: one source reads recordings of one shape`);
      }
      return Array.from({ length: f.cpis }, (_, cpi) => ({
        key: f.cpis === 1 ? file.key : `${file.key}#cpi${cpi}`,
        file: f.data,
        fingerprint: f.fingerprint, // the meta file: its geometry is in every row
        bytes: f.cpiBytes,
        chunks: (): CpiChunk[] => [{ data: f.data, cpi, offset: cpi * f.cpiBytes, geometry: f.geometry, bytes: f.cpiBytes }],
      }));
    });
    return { schema: nullable, partitions };
  },
  async *read(chunk, _p, { schema, partition }) {
    const { geometry: g, data, offset, cpi } = chunk as CpiChunk;
    const type = datatypes[g.datatype];
    const handle = await open(data, 'r');
    let bytes: Uint8Array;
    try {
      bytes = await readAt(handle, offset, g.pulses * g.samples * g.channels * type.bytes, partition.key, `CPI ${cpi}`);
    } finally {
      await handle.close();
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = g.pulses * g.samples;
    const component = type.bytes / 2;
    const values = type.float64 ? new Float64Array(n * 2 * g.channels) : new Float32Array(n * 2 * g.channels);
    // Sample k of channel c is at ((k * channels) + c): gather each channel's samples into its row.
    for (let c = 0; c < g.channels; c++) {
      const base = c * n * 2;
      for (let k = 0; k < n; k++) {
        const at = (k * g.channels + c) * type.bytes;
        values[base + 2 * k] = type.read(view, at);
        values[base + 2 * k + 1] = type.read(view, at + component);
      }
    }
    yield cpiBatch(schema, partition.key.replace(/#cpi\d+$/, ''), cpi, g, values);
  },
});

/** One CPI as rows: one per channel, `values` holding channel after channel of [pulses, samples, 2]. */
export function cpiBatch(schema: Schema, source: string, cpi: number, g: Geometry, values: Float32Array | Float64Array): RecordBatch {
  const rows = g.channels;
  const constant = (type: 'f64' | 'i32', value: number | null) => {
    if (value === null) return vectorFromArray(Array(rows).fill(null), new Float64()).data[0];
    return type === 'i32'
      ? makeData({ type: new Int32(), length: rows, nullCount: 0, data: new Int32Array(rows).fill(value) })
      : makeData({ type: new Float64(), length: rows, nullCount: 0, data: new Float64Array(rows).fill(value) });
  };
  return makeBatch(schema, [
    vectorFromArray(Array(rows).fill(source), new Utf8()).data[0],
    makeData({ type: new Int32(), length: rows, nullCount: 0, data: new Int32Array(rows).fill(cpi) }),
    makeData({ type: new Int32(), length: rows, nullCount: 0, data: Int32Array.from({ length: rows }, (_, c) => c) }),
    tensorData(schema.fields[3], values, rows),
    ...geometryColumns.map(([key, , t]) => constant(t, g[key] as number | null)),
  ], rows);
}

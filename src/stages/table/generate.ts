// `source.generate`: deterministic synthetic tables of any size, for trying workflows out and for
// benchmarks. Integer columns count rows (0, 1, 2, ... across partitions); floating-point columns
// are uniform in [0, 1) from a seeded generator; the same params always give the same bytes.
import { Field, makeData, RecordBatch, Schema, Struct, Type, type DataType } from 'apache-arrow';
import { z } from 'zod';
import { parseType, typeName } from '../../arrow/types.ts';
import { defineSource } from '../../workflow/stage.ts';

// Each partition is a task with a cache entry and each batch is allocated whole: past these, a run
// would fail deep inside with "Invalid array length" instead of saying why.
const maxPartitions = 1_000_000;
const maxBatchRows = 1 << 24;

const params = z.object({
  partitions: z.number().int().min(0).max(maxPartitions, `at most ${maxPartitions.toLocaleString('en')} partitions (each is a task with its own cache entry); put more rows in each instead`).default(1),
  rows: z.number().int().min(0).describe('rows per partition').default(1000),
  batchRows: z.number().int().min(1).max(maxBatchRows, `at most ${maxBatchRows.toLocaleString('en')} rows per batch (a batch is allocated whole)`).default(65_536),
  columns: z.record(z.string(), z.string()).default({ id: 'int64', x: 'float64' }),
  seed: z.number().int().default(0),
}).strict();

const supported = new Set([Type.Int, Type.Float, Type.Bool, Type.Timestamp]);

export const generateSource = defineSource({
  name: 'source.generate',
  kind: 'source',
  version: '1',
  description: 'Deterministic synthetic data: integer columns count rows, float columns are seeded uniform [0, 1).',
  params,
  async discover(p) {
    const schema = new Schema(Object.entries(p.columns).map(([name, type]) => {
      const t = parseType(type);
      if (!supported.has(t.typeId) || (t.typeId === Type.Float && typeName(t) === 'float16')) {
        throw new Error(`column '${name}': source.generate makes integer, float32/64, bool and timestamp columns, not ${type}`);
      }
      return new Field(name, t, false);
    }));
    const partitions = Array.from({ length: p.partitions }, (_, index) => ({
      key: `generated-${String(index).padStart(5, '0')}`,
      bytes: p.rows * schema.fields.length * 8,
      *chunks() {
        for (let start = 0; start < p.rows; start += p.batchRows) {
          const rows = Math.min(p.batchRows, p.rows - start);
          yield { partition: index, start, rows, bytes: rows * schema.fields.length * 8 };
        }
      },
    }));
    return { schema, partitions };
  },
  *read(chunk, p, { schema }) {
    const { partition, start, rows } = chunk as { partition: number; start: number; rows: number };
    const first = partition * p.rows + start;
    const children = schema.fields.map((field, column) => makeData({
      type: field.type as DataType,
      length: rows,
      nullCount: 0,
      data: values(field.type, rows, first, p.seed, column) as never,
    } as never));
    yield new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: rows, children }));
  },
});

function values(type: DataType, rows: number, first: number, seed: number, column: number) {
  switch (type.typeId) {
    case Type.Float: {
      const out = (type as unknown as { precision: number }).precision === 2 ? new Float64Array(rows) : new Float32Array(rows);
      for (let i = 0; i < rows; i++) out[i] = uniform(seed, column, first + i);
      return out;
    }
    case Type.Bool: {
      const out = new Uint8Array((rows + 7) >> 3);
      for (let i = 0; i < rows; i++) if (uniform(seed, column, first + i) < 0.5) out[i >> 3] |= 1 << (i & 7);
      return out;
    }
    default: {
      const { bitWidth = 64, isSigned = true } = type as { bitWidth?: number; isSigned?: boolean };
      const Ctor = {
        8: isSigned ? Int8Array : Uint8Array, 16: isSigned ? Int16Array : Uint16Array,
        32: isSigned ? Int32Array : Uint32Array, 64: isSigned ? BigInt64Array : BigUint64Array,
      }[bitWidth]!;
      const out = new Ctor(rows);
      if (out instanceof BigInt64Array || out instanceof BigUint64Array) for (let i = 0; i < rows; i++) out[i] = BigInt(first + i);
      else for (let i = 0; i < rows; i++) out[i] = first + i;
      return out;
    }
  }
}

/** A uniform [0, 1) number from (seed, column, row): a stateless hash, so chunks need no shared state. */
function uniform(seed: number, column: number, row: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(column + 1, 0xc2b2ae35) ^ row;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  h ^= h >>> 16;
  let g = Math.imul(h ^ Math.floor(row / 4294967296), 0x27d4eb2f);
  g = Math.imul(g ^ (g >>> 15), 0x165667b1);
  g ^= g >>> 16;
  return ((h >>> 0) * 2097152 + ((g >>> 0) >>> 11)) / 9007199254740992;
}

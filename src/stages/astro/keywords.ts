// `astro.keywords`: FITS header keywords as columns, from the `header` JSON column source.fits
// gives (e.g. the SHARP parameters of HMI files: USFLUX, TOTUSJH, R_VALUE, ... at T_REC). Numbers
// become float64 (a keyword absent, or NaN as some pipelines write it, is null); `text` keywords utf8.
import { Field, Float64, Utf8, vectorFromArray } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { requireColumn } from '../../arrow/columns.ts';
import { defineMap } from '../../workflow/stage.ts';
import { floatData, withColumns } from '../../arrow/added-columns.ts';

const params = z.object({
  numbers: z.array(z.string().min(1)).default([]).describe('keywords read as float64'),
  text: z.array(z.string().min(1)).default([]).describe('keywords read as strings'),
  header: z.string().min(1).default('header'),
}).strict().refine((p) => p.numbers.length + p.text.length > 0, { message: 'name at least one keyword in numbers or text' });

export const keywords = defineMap({
  name: 'astro.keywords',
  kind: 'map',
  version: '1',
  description: 'FITS header keywords (from a header JSON column) as float64 or utf8 columns.',
  params,
  outputSchema({ params: p, inputs: [input] }) {
    requireColumn(input, p.header);
    return withColumns(input, [...p.numbers.map((k) => new Field(k, new Float64(), true)), ...p.text.map((k) => new Field(k, new Utf8(), true))]);
  },
  create(p, { outputSchema }) {
    return (batch) => {
      const headers = Array.from({ length: batch.numRows }, (_, r) => JSON.parse(String(batch.getChild(p.header)!.get(r))) as Record<string, unknown>);
      const number = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : NaN);
      return makeBatch(outputSchema, [
        ...batch.data.children,
        ...p.numbers.map((k) => floatData(Float64Array.from(headers, (h) => number(h[k] ?? null)))),
        ...p.text.map((k) => vectorFromArray(headers.map((h) => (h[k] === undefined || h[k] === null ? null : String(h[k]))), new Utf8()).data[0]),
      ], batch.numRows);
    };
  },
});

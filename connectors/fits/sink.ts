// `sink.fits`: writes FITS files that astropy opens with verify('exception') and checksum=True.
// `as: image` (the default when the input has a `data` tensor column): every row becomes an image
// HDU (the first the primary), its `header` column's cards (JSON, as source.fits gives them)
// copied over except the structural ones. `as: table`: an empty primary HDU and one binary table
// of all rows (numbers, booleans, strings, fixed-size lists of numbers with their TDIM shape;
// field metadata `unit` becomes TUNIT). Tables are held until the file ends: NAXIS2 comes first.
import type { RecordBatch, Schema } from 'apache-arrow';
import { z } from 'zod';
import { tensorInfo, tensorValues } from '../../src/arrow/tensor.ts';
import { SchemaError } from '../../src/workflow/errors.ts';
import { defineSink } from '../../src/workflow/stage.ts';
import { fileSink, outputPath, partitionFiles } from '../../src/io/file-sink.ts';
import type { HeaderValue } from './header.ts';
import { emptyPrimary, imageHdu, tableHdu, type Cards } from './write.ts';

const params = z.object({
  path: outputPath,
  as: z.enum(['image', 'table']).optional().describe('default: image if there is a data tensor column, else table'),
  extname: z.string().min(1).optional().describe('tables: the EXTNAME of the table HDU'),
}).strict();

const modeOf = (schema: Schema, as?: 'image' | 'table') => as ?? (schema.fields.some((f) => f.name === 'data' && f.metadata.get('ARROW:extension:name') === 'arrow.fixed_shape_tensor') ? 'image' : 'table');

/** Header cards from a `header` JSON cell (lists of HISTORY / COMMENT lines included). */
function cardsOf(json: string | null): Cards {
  if (!json) return [];
  const cards: Cards = [];
  for (const [keyword, value] of Object.entries(JSON.parse(json) as Record<string, unknown>)) {
    if (Array.isArray(value) && (keyword === 'HISTORY' || keyword === 'COMMENT')) for (const line of value) cards.push([keyword, String(line)]);
    else if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) cards.push([keyword, value as HeaderValue]);
  }
  return cards;
}

export const fitsSink = defineSink({
  name: 'sink.fits',
  kind: 'sink',
  version: '1',
  description: 'FITS files: a row per image HDU (from the data tensor column, header copied), or the rows as one binary table; CHECKSUM on every HDU.',
  params,
  check({ params: p, inputs: [input] }) {
    if (modeOf(input, p.as) === 'image') tensorInfo(input, 'data');
    else {
      try {
        tableHdu(input, [], p.extname);
      } catch (error) {
        throw new SchemaError((error as Error).message); // a column FITS cannot hold, named
      }
    }
  },
  partitionFiles: (p, partitions) => partitionFiles(p.path, 'fits', partitions),
  open(p, ctx) {
    const mode = modeOf(ctx.schema, p.as);
    return fileSink(p.path, 'fits', ctx, (file, schema) => {
      let hdus = 0;
      const held: RecordBatch[] = [];
      return {
        async write(batch) {
          if (mode === 'table') return void held.push(batch);
          const { shape } = tensorInfo(schema, 'data');
          const size = shape.reduce((a, b) => a * b, 1);
          const values = tensorValues(batch, 'data');
          const header = batch.getChild('header');
          for (let r = 0; r < batch.numRows; r++) {
            await file.write(imageHdu(values.subarray(r * size, (r + 1) * size), shape, hdus === 0, cardsOf(header ? header.get(r) : null)));
            hdus++;
          }
        },
        async finish() {
          if (mode === 'table') {
            await file.write(emptyPrimary());
            await file.write(tableHdu(schema, held, p.extname));
          } else if (hdus === 0) {
            await file.write(emptyPrimary());
          }
        },
      };
    });
  },
});


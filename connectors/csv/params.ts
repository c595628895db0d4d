// The params of source.csv, and what they resolve to for one file.
import { z } from 'zod';
import { parseType } from '../../src/arrow/types.ts';
import { MAX_CHUNK_BYTES } from '../../src/io/limits.ts';
import { checkTimezone, compileFormat } from './timestamps.ts';
import type { Dialect } from './tokenize.ts';

const MiB = 1024 * 1024;

/** A single ASCII character that is not a quote, CR or LF (multi-byte characters are not supported). */
const asciiChar = z.string().refine((s) => s.length === 1 && s.charCodeAt(0) < 128 && s !== '\n' && s !== '\r', {
  message: 'must be a single ASCII character other than CR or LF',
});

const formatText = z.string().min(1).superRefine((text, ctx) => {
  try {
    compileFormat(text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
  }
});

export const csvParams = z.object({
  path: z.string().min(1)
    .describe('A file or a glob (`data/*.csv`), relative to the workflow folder; one partition per matched file, ordered by path'),
  schema: z.record(z.string(), z.string().superRefine((type, ctx) => {
    try {
      parseType(type);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
    }
  })).optional()
    .describe('Column types `{column: type}` that win over inference; columns not listed are inferred'),
  header: z.boolean().default(true).describe('Whether the first line (after skipRows) holds the column names'),
  columns: z.array(z.string().min(1)).min(1).optional()
    .describe('Column names: without a header, the names (default column_1..column_n); with one, they replace its names'),
  delimiter: asciiChar.optional().describe("Field separator: one ASCII character (default ',', or tab for .tsv files)"),
  quote: z.string().max(1).refine((s) => s === '' || (s.charCodeAt(0) < 128 && s !== '\n' && s !== '\r'), {
    message: "must be one ASCII character, or '' for no quoting",
  }).default('"').describe("Quote character (default '\"'); '' turns quoting off"),
  nullValues: z.array(z.string()).default(['']).describe("Field texts read as null (default [''], the empty field)"),
  skipRows: z.number().int().min(0).default(0).describe('Lines skipped at the start of every file, before the header'),
  comment: asciiChar.optional().describe('Lines starting with this character are skipped'),
  timestampFormat: z.union([formatText, z.record(z.string(), formatText)]).optional()
    .describe('strftime-like format(s) for timestamps that are not ISO 8601: one for all columns, or {column: format}'),
  timezone: z.string().min(1).default('UTC').superRefine((tz, ctx) => {
    try {
      checkTimezone(tz);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
    }
  }).describe('Zone of timestamps written without an offset: an IANA name (Europe/Paris) or ±HH:MM (default UTC)'),
  batchRows: z.number().int().min(1).default(65_536).describe('Rows per batch, at most'),
  chunkBytes: z.number().int().min(1).max(MAX_CHUNK_BYTES, `must be at most ${MAX_CHUNK_BYTES} (1 GiB): a worker holds a chunk in memory`).default(8 * MiB)
    .describe('Files larger than this are split into chunks of about this size that workers parse in parallel'),
}).strict().superRefine((p, ctx) => {
  const delimiter = p.delimiter ?? ',';
  if (p.quote !== '' && p.quote === delimiter) ctx.addIssue({ code: 'custom', path: ['quote'], message: 'must differ from the delimiter' });
  if (p.comment !== undefined && (p.comment === delimiter || p.comment === p.quote)) {
    ctx.addIssue({ code: 'custom', path: ['comment'], message: 'must differ from the delimiter and the quote' });
  }
});

export type CsvParams = z.output<typeof csvParams>;

/** The dialect for one file: the delimiter defaults to a tab for `.tsv` files. */
export function dialectFor(params: CsvParams, path: string): Dialect {
  const delimiter = params.delimiter ?? (/\.tsv$/i.test(path) ? '\t' : ',');
  return {
    delimiter: delimiter.charCodeAt(0),
    quote: params.quote === '' ? -1 : params.quote.charCodeAt(0),
    comment: params.comment === undefined ? -1 : params.comment.charCodeAt(0),
  };
}

/** The format given for one column, if any. */
export function formatFor(params: CsvParams, column: string): string | undefined {
  const tf = params.timestampFormat;
  return typeof tf === 'string' ? tf : tf?.[column];
}

/** Bytes and rows of the first file that type inference looks at. */
export const SAMPLE_BYTES = MiB;
export const SAMPLE_ROWS = 10_000;

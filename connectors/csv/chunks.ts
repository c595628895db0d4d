// Splitting a large file into chunks that workers parse in parallel. Runs on the main thread: reads
// the file sequentially in blocks of `chunkBytes`, tracks quote state (so a newline inside a
// quoted field is not taken for a record end) and line numbers, and cuts each block after its last
// complete record. Each chunk carries its bytes (in an ArrayBuffer of their own, so they are
// transferred to the worker, not copied) and the line its first record starts on.
import { open } from 'node:fs/promises';
import { MAX_READ_BYTES } from '../../src/io/limits.ts';
import { InputError } from '../../src/workflow/errors.ts';
import type { Chunk } from '../../src/workflow/stage.ts';
import { dialectFor, type CsvParams } from './params.ts';
import { checkHeader, readPreamble } from './preamble.ts';
import { countLines, LF, type Dialect } from './tokenize.ts';

/** A chunk of source.csv: a whole file that the worker reads, or bytes cut from a large one. */
export interface CsvChunk extends Chunk {
  path: string;
  bytes: number;
  /** The first file's header, which this file's must equal (whole files only). */
  header?: string[];
  /** Records cut from a large file (its preamble already read and checked). */
  data?: Uint8Array;
  /** The 1-based line of data's first byte. */
  firstLine?: number;
}

/**
 * The offset just after the last complete record in buf[from..end), where `from` is a record
 * start; `from` itself when no record is complete. Mirrors splitRecords' rules (tokenize.ts).
 */
export function lastRecordEnd(buf: Uint8Array, from: number, end: number, dialect: Dialect): number {
  const { quote, delimiter, comment } = dialect;
  const firstQuote = quote < 0 ? -1 : buf.indexOf(quote, from);
  if (firstQuote < 0 || firstQuote >= end) {
    // No quotes at all: every LF ends a record.
    const nl = buf.lastIndexOf(LF, end - 1);
    return nl >= from ? nl + 1 : from;
  }
  let last = from;
  let recordStart = true;
  let fieldStart = true;
  let i = from;
  while (i < end) {
    const c = buf[i];
    if (recordStart && c === comment) {
      const nl = buf.indexOf(LF, i);
      if (nl < 0 || nl >= end) return last;
      i = last = nl + 1;
      continue;
    }
    recordStart = false;
    if (fieldStart && c === quote) {
      let j = i + 1;
      for (;;) {
        const q = buf.indexOf(quote, j);
        // Unclosed here, or closed by the block's last byte (a doubled quote or not?): undecided.
        if (q < 0 || q + 1 >= end) return last;
        if (buf[q + 1] === quote) {
          j = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      fieldStart = false;
      continue;
    }
    if (c === LF) {
      last = i + 1;
      recordStart = fieldStart = true;
    } else fieldStart = c === delimiter;
    i++;
  }
  return last;
}

/** The chunks of one file larger than chunkBytes. */
export async function* splitFile(path: string, params: CsvParams, expectedHeader: string[] | undefined): AsyncGenerator<CsvChunk> {
  const dialect = dialectFor(params, path);
  const blockBytes = params.chunkBytes;
  const maxRecord = Math.max(64 * 1024 * 1024, 4 * blockBytes);
  const handle = await open(path, 'r');
  try {
    let pending = new Uint8Array(0);
    let filePosition = 0;
    let line = 1;
    let first = true;
    for (;;) {
      const block = new Uint8Array(pending.length + blockBytes);
      block.set(pending);
      let end = pending.length;
      let eof = false;
      while (end < block.length) {
        const { bytesRead } = await handle.read(block, end, Math.min(block.length - end, MAX_READ_BYTES), filePosition);
        if (bytesRead === 0) {
          eof = true;
          break;
        }
        end += bytesRead;
        filePosition += bytesRead;
      }
      let start = 0;
      if (first) {
        const preamble = readPreamble(block, end, dialect, params, path, eof);
        checkHeader(expectedHeader, preamble.header, path, preamble.headerLine);
        start = preamble.dataStart;
        line = preamble.dataLine;
        first = false;
      }
      const cut = eof ? end : lastRecordEnd(block, start, end, dialect);
      if (cut > start) {
        const data = block.slice(start, cut);
        yield { path, bytes: data.byteLength, data, firstLine: line };
        line += countLines(block, start, cut);
      } else if (end - start > maxRecord) {
        throw new InputError(path, `a record longer than ${maxRecord} bytes starts here (is a quote left open?)`, line);
      }
      if (eof) return;
      pending = block.subarray(cut > start ? cut : start, end);
    }
  } finally {
    await handle.close();
  }
}

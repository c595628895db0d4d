// Large files: cut into chunks on the main thread at record boundaries (never inside a quoted
// field), parsed independently, with the same result as reading the file whole.
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { lastRecordEnd } from '../../../connectors/csv/chunks.ts';
import { scratchDir } from '../../helpers.ts';
import { errorOf, readCsv, writeCsv } from './read-helpers.ts';

const dir = scratchDir('quiver-csv-chunks-');
const encode = (text: string) => new TextEncoder().encode(text);
const dialect = { delimiter: 44, quote: 34, comment: 35 };

describe('lastRecordEnd', () => {
  const end = (text: string) => {
    const b = encode(text);
    return lastRecordEnd(b, 0, b.length, dialect);
  };

  test('after the last newline that is outside quotes', () => {
    expect(end('a,b\n1,2\n3,')).toBe(8);
    expect(end('a,b\n1,"x\ny\n')).toBe(4);
    expect(end('a,b\n1,"x\ny"\n2,"z')).toBe(12);
    expect(end('1,"a""\n""b"\n2,')).toBe(12);
    expect(end('no newline')).toBe(0);
  });

  test('a quote as the last byte is undecided (closing, or half of a doubled quote?)', () => {
    expect(end('1,2\n3,"x"')).toBe(4);
  });

  test('quotes inside unquoted fields and comment lines are literal', () => {
    expect(end('1,say "hi\n2,3\n4')).toBe(14);
    expect(end('# it\'s "odd\n1,2\n3')).toBe(16);
    expect(end('1,"a\n# not a comment"\n2,3\n')).toBe(26);
  });
});

/** A deterministic pseudo-random generator (mulberry32). */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** ~3 MB of records, most with a quoted multi-line field, some with doubled quotes, CRLF and comment lines. */
function generate(rows: number, seed = 1): string {
  const next = random(seed);
  const lines = ['\ufeffwritten by a test', 'id,x,note,when'];
  for (let i = 0; i < rows; i++) {
    if (i % 997 === 0) lines.push('# a comment with a "stray quote');
    const words = Array.from({ length: 1 + Math.floor(next() * 12) }, () => Math.floor(next() * 1e6).toString(36));
    let note = words.join(next() < 0.5 ? '\n' : ' ');
    if (next() < 0.2) note += ' said ""yes"", then\r\nleft';
    const x = i % 13 === 0 ? '' : (next() * 1000 - 500).toFixed(1 + (i % 9));
    const when = new Date(Date.UTC(2020, 0, 1) + i * 60_000).toISOString().slice(0, 19).replace('T', ' ');
    lines.push(`${i},${x},"${note}",${when}${i % 5 === 0 ? '\r' : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

describe('a large file gives the same result chunked and whole', () => {
  const text = generate(40_000);
  const name = writeCsv(dir, 'large.csv', text);
  const params = { path: name, skipRows: 1, comment: '#' };

  test('many chunks of 64 KiB equal one chunk', async () => {
    const whole = await readCsv({ ...params, chunkBytes: 1 << 30 }, dir);
    const chunked = await readCsv({ ...params, chunkBytes: 64 * 1024 }, dir);
    expect(text.length).toBeGreaterThan(2_000_000);
    expect(whole.chunks.length).toBe(1);
    expect(whole.chunks[0].data).toBeUndefined(); // small enough: the worker reads the file itself
    expect(chunked.chunks.length).toBeGreaterThan(30);
    expect(chunked.schema.toString()).toBe(whole.schema.toString());
    expect(chunked.table.numRows).toBe(40_000);
    expect(whole.table.numRows).toBe(40_000);
    for (const field of whole.schema.fields) {
      const a = whole.table.getChild(field.name)!.toArray();
      const b = chunked.table.getChild(field.name)!.toArray();
      expect(Array.from(b as ArrayLike<unknown>), field.name).toEqual(Array.from(a as ArrayLike<unknown>));
    }
    const notes = whole.table.getChild('note')!.toArray() as string[];
    expect(notes.filter((note) => note.includes('\n')).length).toBeGreaterThan(10_000);
    expect(notes.filter((note) => note.includes('"yes"')).length).toBeGreaterThan(1_000);
  });

  test('chunks own their bytes (transferable), start where records start, and know their first line', async () => {
    const { chunks } = await readCsv({ ...params, chunkBytes: 256 * 1024 }, dir);
    const bytes = encode(text);
    let offset = -1;
    for (const chunk of chunks) {
      const data = chunk.data!;
      expect(data.byteOffset).toBe(0);
      expect(data.byteLength).toBe(data.buffer.byteLength);
      expect(chunk.bytes).toBe(data.byteLength);
      if (offset < 0) offset = bytes.indexOf(data[0], 0) >= 0 ? findOffset(bytes, data) : 0;
      expect(Buffer.compare(Buffer.from(bytes.subarray(offset, offset + data.byteLength)), Buffer.from(data))).toBe(0);
      // The line number of the chunk's first byte, counted in the whole file.
      expect(chunk.firstLine).toBe(1 + countLf(bytes, offset));
      offset += data.byteLength;
    }
    expect(offset).toBe(bytes.length);
  });

  test('an error in a late chunk has the right line', async () => {
    const lines = generate(40_000, 2).split('\n');
    const target = lines.findIndex((line, i) => i > 50_000 && /^\d+,/.test(line));
    expect(target).toBeGreaterThan(0);
    lines[target] = lines[target].replace(/^(\d+),/, '$1,not-a-number,');
    const bad = writeCsv(dir, 'bad.csv', lines.join('\n'));
    for (const chunkBytes of [64 * 1024, 1 << 30]) {
      expect(await errorOf(readCsv({ path: bad, skipRows: 1, comment: '#', chunkBytes }, dir))).toBe(
        `${join(dir, bad)}:${target + 1}: expected 4 fields, found 5`);
    }
  });

  test('an unterminated quote near the end of a chunked file', async () => {
    const bad = writeCsv(dir, 'open.csv', `${generate(5_000, 3)}99,1.5,"never closed\n100,2,x,y\n`);
    const line = generate(5_000, 3).split('\n').length;
    expect(await errorOf(readCsv({ path: bad, skipRows: 1, comment: '#', chunkBytes: 16 * 1024 }, dir))).toBe(
      `${join(dir, bad)}:${line}: unterminated quoted field (the quote opened here is never closed)`);
  });

  test('every file after the first is checked against its header in the chunked path too', async () => {
    const sub = scratchDir('quiver-csv-chunk-headers-');
    writeCsv(sub, 'a.csv', text);
    writeCsv(sub, 'b.csv', text.replace('id,x,note,when', 'id,x,note,time'));
    expect(await errorOf(readCsv({ path: '*.csv', skipRows: 1, comment: '#', chunkBytes: 64 * 1024 }, sub))).toBe(
      `${join(sub, 'b.csv')}:2: the header differs from the first file's: expected id,x,note,when; found id,x,note,time`);
  });
});

function countLf(bytes: Uint8Array, end: number): number {
  let n = 0;
  for (let i = 0; i < end; i++) if (bytes[i] === 10) n++;
  return n;
}

/** Where `data` starts in `bytes` (the first chunk starts after the preamble). */
function findOffset(bytes: Uint8Array, data: Uint8Array): number {
  return Buffer.from(bytes).indexOf(Buffer.from(data.subarray(0, 64)));
}

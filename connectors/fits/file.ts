// The HDUs of a FITS file: each header is read (block by block up to END), the data only located.
// Data size (FITS 4.0 §4.4.1): |BITPIX|/8 × GCOUNT × (PCOUNT + NAXIS1 × … × NAXISn), with NAXIS1
// left out of the product for random groups (NAXIS1 = 0), padded to whole 2880-byte blocks.
// Every size is checked against the file before anything is allocated or read: a damaged header
// can declare anything (a negative axis would walk backwards through the file forever).
import type { ByteReader } from '../../src/io/byte-reader.ts';
import { InputError } from '../../src/workflow/errors.ts';
import { BLOCK, FitsHeader, blockHasEnd, parseHeader } from './header.ts';
import { bitpixes } from './image.ts';

export type HduKind = 'image' | 'bintable' | 'table' | 'groups' | 'compressed-image';

export interface Hdu {
  index: number;
  /** EXTNAME, or PRIMARY for the first HDU without one. */
  name: string;
  kind: HduKind;
  header: FitsHeader;
  /** Byte offsets in the file: header start, data start, and the data's length without padding. */
  start: number;
  dataStart: number;
  dataBytes: number;
}

function kindOf(header: FitsHeader, index: number, file: string): HduKind {
  if (index === 0) {
    if (header.get('SIMPLE') === undefined) throw new InputError(file, 'not a FITS file: it does not start with SIMPLE');
    return header.get('GROUPS') === true && header.integer('NAXIS', 0) > 0 && header.integer('NAXIS1', -1) === 0 ? 'groups' : 'image';
  }
  const xtension = header.string('XTENSION');
  switch (xtension?.trim()) {
    case 'IMAGE': return 'image';
    case 'TABLE': return 'table';
    case 'BINTABLE': case 'A3DTABLE': return header.get('ZIMAGE') === true ? 'compressed-image' : 'bintable';
    default: throw new InputError(file, `HDU ${index}: extension type ${JSON.stringify(xtension)} is not one quiver reads (IMAGE, TABLE, BINTABLE)`);
  }
}

/** A header can run to this many blocks (36,000 cards) before its missing END makes it not FITS. */
export const MAX_HEADER_BLOCKS = 1000;

/** A count the header declares (an axis length, PCOUNT, GCOUNT): a whole number, not negative. */
function count(header: FitsHeader, keyword: string, fallback?: number): number {
  const n = header.integer(keyword, fallback);
  if (n < 0) throw new Error(`${keyword} is ${n}: it cannot be negative`);
  return n;
}

export function dataBytesOf(header: FitsHeader): number {
  const naxis = count(header, 'NAXIS');
  if (naxis > 999) throw new Error(`NAXIS is ${naxis}: FITS allows at most 999 axes`);
  const bitpix = header.integer('BITPIX');
  if (!bitpixes.includes(bitpix)) throw new Error(`BITPIX ${bitpix} is not one of ${bitpixes.join(', ')}`);
  if (naxis === 0) return 0;
  const groups = header.get('GROUPS') === true && header.integer('NAXIS1', -1) === 0;
  let product = 1;
  for (let i = groups ? 2 : 1; i <= naxis; i++) product *= count(header, `NAXIS${i}`);
  return (Math.abs(bitpix) / 8) * count(header, 'GCOUNT', 1) * (count(header, 'PCOUNT', 0) + product);
}

/** Table rows of no bytes cannot be told apart, and any number of them fit in no file. */
function checkRows(header: FitsHeader, kind: HduKind): void {
  if (kind === 'image' || kind === 'groups') return;
  const rows = header.integer('NAXIS2', 0);
  if (header.integer('NAXIS1', 0) === 0 && rows > 0) throw new Error(`the table declares ${rows} rows of NAXIS1 = 0 bytes: rows that hold nothing`);
}

/** The header at `start`: its blocks read one at a time up to the one holding END. */
async function readHeader(bytes: ByteReader, start: number, index: number): Promise<Uint8Array> {
  const { name: file } = bytes;
  const blocks: Uint8Array[] = [];
  do {
    if (blocks.length === MAX_HEADER_BLOCKS) {
      throw new InputError(file, `HDU ${index}: no END card in the first ${MAX_HEADER_BLOCKS} header blocks (${MAX_HEADER_BLOCKS * 36} cards): not a FITS header`);
    }
    const at = start + blocks.length * BLOCK;
    await bytes.settle?.(at + BLOCK, at);
    if (at + BLOCK > bytes.size) throw new InputError(file, `HDU ${index}: truncated header (no END card before the end of the file)`);
    blocks.push(await bytes.read(at, BLOCK, `HDU ${index}'s header`));
  } while (!blockHasEnd(blocks[blocks.length - 1]));
  return Buffer.concat(blocks);
}

/** Every HDU of a file (or S3 object): headers read, data only located. */
export async function listHdus(bytes: ByteReader): Promise<Hdu[]> {
  const { name: file } = bytes;
  const hdus: Hdu[] = [];
  // A stream (gzip) knows its size only once read to its end: `settle` inflates to where it is needed.
  for (let start = 0; ;) {
    await bytes.settle?.(start + 8, start);
    const size = bytes.size;
    if (start >= size) break;
    const index = hdus.length;
    // Bytes after the last HDU that do not begin another (padding some writers leave) end the file.
    if (index > 0) {
      const peek = await bytes.read(start, Math.min(8, size - start), 'the next HDU');
      if (String.fromCharCode(...peek) !== 'XTENSION') break;
    }
    const text = await readHeader(bytes, start, index);
    const length = text.length;
    let header: FitsHeader;
    let kind: HduKind;
    let dataBytes: number;
    try {
      header = parseHeader(text, `HDU ${index}`);
      kind = kindOf(header, index, file);
      dataBytes = dataBytesOf(header);
      checkRows(header, kind);
    } catch (error) {
      if (error instanceof InputError) throw error;
      const message = (error as Error).message;
      throw new InputError(file, message.startsWith(`HDU ${index}`) ? message : `HDU ${index}: ${message}`);
    }
    const dataStart = start + length;
    const dataEnd = dataStart + dataBytes;
    if (bytes.settle && dataEnd <= bytes.size) await bytes.settle(dataEnd);
    if (dataEnd > bytes.size) {
      throw new InputError(file, `HDU ${index}: truncated: its data needs bytes ${dataStart}-${dataEnd} but ${bytes.endText?.() ?? `the file ends at byte ${bytes.size}`}`);
    }
    const extname = header.string('EXTNAME')?.trim();
    hdus.push({ index, name: extname || (index === 0 ? 'PRIMARY' : ''), kind, header, start, dataStart, dataBytes });
    start = dataStart + Math.ceil(dataBytes / BLOCK) * BLOCK;
  }
  if (hdus.length === 0) throw new InputError(file, 'empty file: not a FITS file');
  return hdus;
}

/** The HDU `which` names: an index, or an EXTNAME (case-insensitive, optionally with EXTVER as `NAME,2`). */
export function pickHdu(hdus: Hdu[], which: number | string, file: string): Hdu {
  if (typeof which === 'number') {
    const hdu = hdus[which];
    if (!hdu) throw new InputError(file, `has ${hdus.length} HDUs (0-${hdus.length - 1}); there is no HDU ${which}`);
    return hdu;
  }
  const [name, version] = which.split(',');
  const found = hdus.find((h) => h.name.toUpperCase() === name.trim().toUpperCase() && (version === undefined || h.header.integer('EXTVER', 1) === Number(version)));
  if (!found) throw new InputError(file, `has no HDU named '${which}' (names: ${hdus.map((h) => h.name || `#${h.index}`).join(', ')})`);
  return found;
}

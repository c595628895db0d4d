// The HDUs of a FITS file: each header is read (block by block up to END), the data only located.
// Data size (FITS 4.0 §4.4.1): |BITPIX|/8 × GCOUNT × (PCOUNT + NAXIS1 × … × NAXISn), with NAXIS1
// left out of the product for random groups (NAXIS1 = 0), padded to whole 2880-byte blocks.
import type { FileHandle } from 'node:fs/promises';
import { InputError } from '../../src/workflow/errors.ts';
import { readAt } from '../../src/io/input-files.ts';
import { BLOCK, FitsHeader, headerLength, parseHeader } from './header.ts';

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

export function dataBytesOf(header: FitsHeader): number {
  const naxis = header.integer('NAXIS');
  if (naxis === 0) return 0;
  const groups = header.get('GROUPS') === true && header.integer('NAXIS1', -1) === 0;
  let product = 1;
  for (let i = groups ? 2 : 1; i <= naxis; i++) product *= header.integer(`NAXIS${i}`);
  return (Math.abs(header.integer('BITPIX')) / 8) * header.integer('GCOUNT', 1) * (header.integer('PCOUNT', 0) + product);
}

/** Every HDU of an open file of `size` bytes. */
export async function listHdus(handle: FileHandle, size: number, file: string): Promise<Hdu[]> {
  const hdus: Hdu[] = [];
  for (let start = 0; start < size;) {
    const index = hdus.length;
    // Bytes after the last HDU that do not begin another (padding some writers leave) end the file.
    if (index > 0) {
      const peek = await readAt(handle, start, Math.min(8, size - start), file, 'the next HDU');
      if (String.fromCharCode(...peek) !== 'XTENSION') break;
    }
    let text = new Uint8Array(0);
    let length: number | undefined;
    while (length === undefined) {
      if (start + text.length + BLOCK > size) throw new InputError(file, `HDU ${index}: truncated header (no END card before the end of the file)`);
      const block = await readAt(handle, start + text.length, BLOCK, file, `HDU ${index}'s header`);
      const joined = new Uint8Array(text.length + BLOCK);
      joined.set(text);
      joined.set(block, text.length);
      text = joined;
      length = headerLength(text);
    }
    let header: FitsHeader;
    let kind: HduKind;
    let dataBytes: number;
    try {
      header = parseHeader(text, `HDU ${index}`);
      kind = kindOf(header, index, file);
      dataBytes = dataBytesOf(header);
    } catch (error) {
      throw error instanceof InputError ? error : new InputError(file, (error as Error).message);
    }
    const dataStart = start + length;
    if (dataStart + dataBytes > size) {
      throw new InputError(file, `HDU ${index}: truncated: its data needs bytes ${dataStart}-${dataStart + dataBytes} but the file ends at byte ${size}`);
    }
    const extname = header.string('EXTNAME')?.trim();
    hdus.push({ index, name: extname || (index === 0 ? 'PRIMARY' : ''), kind, header, start, dataStart, dataBytes });
    start = dataStart + Math.ceil(dataBytes / BLOCK) * BLOCK;
  }
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

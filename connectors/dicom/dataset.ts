// DICOM Part 10 files (PS3.10 §7): a 128-byte preamble, "DICM", the file meta group (0002,xxxx)
// always in explicit VR little endian, then the data set in the transfer syntax the meta group
// names: implicit VR little endian, explicit VR little or big endian, deflated explicit VR
// little endian, or one of the compressed syntaxes (explicit VR little endian with the pixel data
// encapsulated in fragments, PS3.5 §A.4). Sequences and items of defined or undefined length are
// walked (PS3.5 §7.5); values stay where they are in the file's bytes until asked for.
import { inflateRawSync } from 'node:zlib';
import { taskMemoryBytes } from '../../src/io/limits.ts';
import { impliedVr, tagName, tags, type Keyword } from './dictionary.ts';

export const transferSyntaxes = {
  implicitLittle: '1.2.840.10008.1.2',
  explicitLittle: '1.2.840.10008.1.2.1',
  deflated: '1.2.840.10008.1.2.1.99',
  explicitBig: '1.2.840.10008.1.2.2',
} as const;

export interface DicomElement {
  tag: number;
  vr: string;
  /** Where the value starts in the data set's bytes, and its length (undefined lengths resolved). */
  offset: number;
  length: number;
  /** SQ: its items. */
  items?: DicomDataset[];
  /** Encapsulated pixel data: the basic offset table's item, then each fragment. */
  fragments?: Uint8Array[];
}

/** A malformed file: what is wrong and where (byte offset in the data set or meta group). */
export class DicomFormatError extends Error {}

const longVrs = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const ITEM = 0xfffe_e000;
const ITEM_END = 0xfffe_e00d;
const SEQUENCE_END = 0xfffe_e0dd;
const UNDEFINED = 0xffff_ffff;
/** Sequences nest a few levels in real files; a damaged one nesting without end would overflow the stack. */
const MAX_DEPTH = 64;

export class DicomDataset {
  constructor(readonly bytes: Uint8Array, readonly elements: Map<number, DicomElement>, readonly littleEndian: boolean) {}

  has(keyword: Keyword): boolean {
    return this.elements.has(tags[keyword][0]);
  }

  element(keyword: Keyword): DicomElement | undefined {
    return this.elements.get(tags[keyword][0]);
  }

  value(element: DicomElement): Uint8Array {
    return this.bytes.subarray(element.offset, element.offset + element.length);
  }

  /** A text value, trailing padding (spaces, NULs) removed; undefined when absent. */
  string(keyword: Keyword): string | undefined {
    const e = this.element(keyword);
    if (!e) return undefined;
    return latin1(this.value(e)).replace(/[\0 ]+$/, '').replace(/^ +/, '');
  }

  /** Numbers of a DS/IS (text, backslash-separated) or binary (US, SS, UL, SL, FL, FD) value. */
  numbers(keyword: Keyword): number[] | undefined {
    const e = this.element(keyword);
    if (!e) return undefined;
    const vr = e.vr === 'UN' ? tags[keyword][1] : e.vr;
    const bytes = this.value(e);
    if (vr === 'DS' || vr === 'IS') {
      const text = latin1(bytes).trim();
      if (text === '') return [];
      return text.split('\\').map((part) => {
        const v = Number(part.trim());
        if (!Number.isFinite(v)) throw new DicomFormatError(`${keyword} ${tagName(e.tag)} holds ${JSON.stringify(part)}, not a number`);
        return v;
      });
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const read: Record<string, [number, (o: number) => number]> = {
      US: [2, (o) => view.getUint16(o, this.littleEndian)], SS: [2, (o) => view.getInt16(o, this.littleEndian)],
      UL: [4, (o) => view.getUint32(o, this.littleEndian)], SL: [4, (o) => view.getInt32(o, this.littleEndian)],
      FL: [4, (o) => view.getFloat32(o, this.littleEndian)], FD: [8, (o) => view.getFloat64(o, this.littleEndian)],
    };
    const reader = read[vr];
    if (!reader) throw new DicomFormatError(`${keyword} ${tagName(e.tag)} has VR ${vr}, not a number`);
    return Array.from({ length: Math.floor(bytes.length / reader[0]) }, (_, i) => reader[1](i * reader[0]));
  }

  number(keyword: Keyword): number | undefined {
    return this.numbers(keyword)?.[0];
  }
}

const latin1 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');

export interface DicomFile {
  meta: DicomDataset;
  dataset: DicomDataset;
  transferSyntax: string;
}

/** Parses a Part 10 file's bytes. */
export function parseDicom(bytes: Uint8Array): DicomFile {
  if (bytes.length < 132 || latin1(bytes.subarray(128, 132)) !== 'DICM') {
    throw new DicomFormatError('not a DICOM Part 10 file: no "DICM" after the 128-byte preamble');
  }
  const metaElements = new Map<number, DicomElement>();
  let offset = 132;
  // The meta group: explicit VR little endian, and only group 0002.
  const metaReader = new Reader(bytes, true, true);
  while (offset + 4 <= bytes.length && metaReader.peekGroup(offset) === 0x0002) {
    const [element, next] = metaReader.element(offset);
    metaElements.set(element.tag, element);
    offset = next;
  }
  const meta = new DicomDataset(bytes, metaElements, true);
  const transferSyntax = meta.string('TransferSyntaxUID');
  if (!transferSyntax) throw new DicomFormatError('the file meta group has no TransferSyntaxUID (0002,0010)');
  let body = bytes.subarray(offset);
  if (transferSyntax === transferSyntaxes.deflated) {
    // No header says how large the data set is: it may take an eighth of the task's budget (its
    // pixels then take 8 bytes a sample or more), and inflating stops there.
    const limit = Math.floor(taskMemoryBytes() / 8);
    try {
      body = inflateRawSync(body, { maxOutputLength: limit });
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new DicomFormatError(`the deflated data set inflates to more than ${limit} bytes, more than an image this task's memory budget can hold`);
      }
      throw new DicomFormatError(`the deflated data set does not inflate: ${(error as Error).message}`);
    }
  }
  const explicit = transferSyntax !== transferSyntaxes.implicitLittle;
  const littleEndian = transferSyntax !== transferSyntaxes.explicitBig;
  const dataset = new Reader(body, explicit, littleEndian).dataset(0, body.length);
  return { meta, dataset, transferSyntax };
}

/** Walks elements in one encoding. */
class Reader {
  private readonly view: DataView;
  private depth = 0;

  constructor(private readonly bytes: Uint8Array, private readonly explicit: boolean, private readonly littleEndian: boolean) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  peekGroup(offset: number): number {
    return this.view.getUint16(offset, true);
  }

  private tagAt(offset: number, little = this.littleEndian): number {
    this.need(offset, 4, 'a tag');
    return ((this.view.getUint16(offset, little) << 16) | this.view.getUint16(offset + 2, little)) >>> 0;
  }

  private need(offset: number, length: number, what: string) {
    if (offset + length > this.bytes.length) throw new DicomFormatError(`truncated at byte ${offset}: ${what} runs past the end (${this.bytes.length} bytes)`);
  }

  /** Elements from `start` up to `end` (or an item delimiter when `end` is undefined): the data set and where it stopped. */
  dataset(start: number, end: number | undefined): DicomDataset {
    return this.datasetUntil(start, end)[0];
  }

  private datasetUntil(start: number, end: number | undefined): [DicomDataset, number] {
    const elements = new Map<number, DicomElement>();
    let offset = start;
    const limit = end ?? this.bytes.length;
    while (offset < limit) {
      // Trailing padding some writers leave: fewer bytes than a tag.
      if (end !== undefined && limit - offset < 8 && this.bytes.subarray(offset, limit).every((b) => b === 0)) break;
      const tag = this.tagAt(offset);
      if (tag === ITEM_END) {
        if (end !== undefined) throw new DicomFormatError(`an item delimiter at byte ${offset} inside an item of defined length`);
        return [new DicomDataset(this.bytes, elements, this.littleEndian), offset + 8];
      }
      const [element, next] = this.element(offset);
      elements.set(element.tag, element);
      offset = next;
    }
    if (end === undefined) throw new DicomFormatError('an item of undefined length has no item delimiter before the end of the file');
    return [new DicomDataset(this.bytes, elements, this.littleEndian), offset];
  }

  /** One element at `offset`: it, and the offset after it. */
  element(offset: number): [DicomElement, number] {
    const tag = this.tagAt(offset);
    let vr: string;
    let length: number;
    let valueStart: number;
    if (this.explicit && (tag >>> 16) !== 0xfffe) {
      this.need(offset, 8, `element ${tagName(tag)}`);
      vr = String.fromCharCode(this.bytes[offset + 4], this.bytes[offset + 5]);
      if (!/^[A-Z]{2}$/.test(vr)) throw new DicomFormatError(`element ${tagName(tag)} at byte ${offset} has VR bytes ${JSON.stringify(vr)}: not explicit VR as the transfer syntax says`);
      if (longVrs.has(vr)) {
        this.need(offset, 12, `element ${tagName(tag)}`);
        length = this.view.getUint32(offset + 8, this.littleEndian);
        valueStart = offset + 12;
      } else {
        length = this.view.getUint16(offset + 6, this.littleEndian);
        valueStart = offset + 8;
      }
    } else {
      this.need(offset, 8, `element ${tagName(tag)}`);
      vr = impliedVr(tag);
      length = this.view.getUint32(offset + 4, this.littleEndian);
      valueStart = offset + 8;
    }
    if (length === UNDEFINED) {
      if (tag === tags.PixelData[0]) return this.encapsulated(tag, vr, valueStart);
      if (vr === 'SQ' || vr === 'UN' || !this.explicit) return this.sequence(tag, 'SQ', valueStart, undefined);
      throw new DicomFormatError(`element ${tagName(tag)} (${vr}) at byte ${offset} has undefined length, which only sequences and pixel data may have`);
    }
    this.need(valueStart, length, `the value of ${tagName(tag)} (${length} bytes)`);
    // A sequence, or (implicit VR) a value whose first bytes are an item tag.
    if (vr === 'SQ' || (vr === 'UN' && !this.explicit && length >= 8 && this.tagAt(valueStart) === ITEM)) {
      return this.sequence(tag, 'SQ', valueStart, valueStart + length);
    }
    return [{ tag, vr, offset: valueStart, length }, valueStart + length];
  }

  private sequence(tag: number, vr: string, start: number, end: number | undefined): [DicomElement, number] {
    if (++this.depth > MAX_DEPTH) throw new DicomFormatError(`sequence ${tagName(tag)} at byte ${start} is nested more than ${MAX_DEPTH} deep`);
    const items: DicomDataset[] = [];
    let offset = start;
    for (;;) {
      if (end !== undefined && offset >= end) break;
      const itemTag = this.tagAt(offset);
      this.need(offset, 8, 'an item header');
      const length = this.view.getUint32(offset + 4, this.littleEndian);
      if (itemTag === SEQUENCE_END) {
        offset += 8;
        break;
      }
      if (itemTag !== ITEM) throw new DicomFormatError(`sequence ${tagName(tag)}: expected an item at byte ${offset}, found ${tagName(itemTag)}`);
      if (length === UNDEFINED) {
        const [item, next] = this.datasetUntil(offset + 8, undefined);
        items.push(item);
        offset = next;
      } else {
        this.need(offset + 8, length, `an item of sequence ${tagName(tag)}`);
        items.push(this.dataset(offset + 8, offset + 8 + length));
        offset += 8 + length;
      }
    }
    this.depth--;
    return [{ tag, vr, offset: start, length: offset - start, items }, offset];
  }

  /** Encapsulated pixel data (PS3.5 §A.4): items of bytes up to the sequence delimiter. */
  private encapsulated(tag: number, vr: string, start: number): [DicomElement, number] {
    const fragments: Uint8Array[] = [];
    let offset = start;
    for (;;) {
      const itemTag = this.tagAt(offset);
      this.need(offset, 8, 'a pixel data item header');
      const length = this.view.getUint32(offset + 4, this.littleEndian);
      offset += 8;
      if (itemTag === SEQUENCE_END) break;
      if (itemTag !== ITEM) throw new DicomFormatError(`encapsulated pixel data: expected an item at byte ${offset - 8}, found ${tagName(itemTag)}`);
      this.need(offset, length, 'a pixel data fragment');
      fragments.push(this.bytes.subarray(offset, offset + length));
      offset += length;
    }
    if (fragments.length === 0) throw new DicomFormatError('encapsulated pixel data without a basic offset table item');
    return [{ tag, vr, offset: start, length: offset - start, fragments }, offset];
  }
}

// The JP2 file format (ISO/IEC 15444-1 Annex I): a signature box, then boxes of (length, type,
// contents); jp2h holds ihdr (height, width, components, bits) and colr; `xml ` boxes hold XML
// (Helioviewer writes the source FITS header there, as <meta><fits><KEY>value</KEY>…</fits>);
// jp2c holds the JPEG 2000 codestream. Every box length is checked against the file before use.

export interface Jp2Layout {
  width: number;
  height: number;
  components: number;
  /** Bits per component (1-38), and whether samples are signed. */
  bits: number;
  signed: boolean;
  /** colr's enumerated colour space (16 sRGB, 17 greyscale, 18 sYCC), when it says one. */
  colourSpace?: number;
  /** The codestream's place in the file. */
  codestream: { start: number; length: number };
  /** The text of every `xml ` box. */
  xml: string[];
}

const SIGNATURE = [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a];

interface Box { type: string; start: number; contents: number; end: number }

/** The boxes between `start` and `end`: an Error when one's length runs past `end` or is too short for its own header. */
function boxesIn(bytes: Uint8Array, start: number, end: number, where: string): Box[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Box[] = [];
  for (let at = start; at < end;) {
    if (at + 8 > end) throw new Error(`${where}: ${end - at} bytes at byte ${at} are too few for a box header`);
    let length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    let header = 8;
    if (length === 1) {
      if (at + 16 > end) throw new Error(`${where}: box '${type}' at byte ${at} is cut short in its length`);
      length = Number(view.getBigUint64(at + 8));
      header = 16;
    } else if (length === 0) length = end - at; // the last box runs to the end
    if (length < header) throw new Error(`${where}: box '${type}' at byte ${at} says it is ${length} bytes, less than its own header`);
    if (at + length > end) throw new Error(`box '${type}' at byte ${at} says it is ${length} bytes, past the end of ${where} (byte ${end}): the file is truncated or damaged`);
    out.push({ type, start: at, contents: at + header, end: at + length });
    at += length;
  }
  return out;
}

/** The layout of a JP2 file; an Error saying why when it is not one quiver reads. */
export function parseJp2(bytes: Uint8Array): Jp2Layout {
  if (bytes.length < 12 || SIGNATURE.some((b, i) => bytes[i] !== b)) {
    if (bytes[0] === 0xff && bytes[1] === 0x4f) throw new Error('a raw JPEG 2000 codestream (.j2k), not a JP2 file: quiver reads JP2 files, whose boxes carry the header');
    throw new Error('not a JP2 file: it does not start with the JPEG 2000 signature box');
  }
  const top = boxesIn(bytes, 12, bytes.length, 'the file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const jp2h = top.find((b) => b.type === 'jp2h');
  if (!jp2h) throw new Error('no header box (jp2h)');
  const inner = boxesIn(bytes, jp2h.contents, jp2h.end, 'the jp2h box');
  const ihdr = inner.find((b) => b.type === 'ihdr');
  if (!ihdr || ihdr.end - ihdr.contents < 14) throw new Error('no image header box (ihdr) of 14 bytes in jp2h');
  const bpc = bytes[ihdr.contents + 10];
  const colr = inner.find((b) => b.type === 'colr');
  const jp2c = top.find((b) => b.type === 'jp2c');
  if (!jp2c) throw new Error('no codestream box (jp2c)');
  const decoder = new TextDecoder('utf-8');
  return {
    height: view.getUint32(ihdr.contents), width: view.getUint32(ihdr.contents + 4), components: view.getUint16(ihdr.contents + 8),
    bits: (bpc & 0x7f) + 1, signed: (bpc & 0x80) !== 0,
    colourSpace: colr && bytes[colr.contents] === 1 && colr.end - colr.contents >= 7 ? view.getUint32(colr.contents + 3) : undefined,
    codestream: { start: jp2c.contents, length: jp2c.end - jp2c.contents },
    xml: top.filter((b) => b.type === 'xml ').map((b) => decoder.decode(bytes.subarray(b.contents, b.end))),
  };
}

/** The codestream's SIZ (image and component sizes) and COD (decomposition levels) markers. */
export function codestreamInfo(cs: Uint8Array): { width: number; height: number; components: number; levels: number } {
  if (!(cs[0] === 0xff && cs[1] === 0x4f && cs[2] === 0xff && cs[3] === 0x51) || cs.length < 42) throw new Error('the codestream does not begin with SOC and SIZ markers: it is damaged');
  const view = new DataView(cs.buffer, cs.byteOffset, cs.byteLength);
  const width = view.getUint32(8) - view.getUint32(16);
  const height = view.getUint32(12) - view.getUint32(20);
  const components = view.getUint16(40);
  // The main header's markers up to the first tile (SOT): COD says the decomposition levels.
  for (let at = 4 + view.getUint16(4); at + 4 <= cs.length;) {
    const marker = view.getUint16(at);
    if (marker === 0xff90) break;
    const length = view.getUint16(at + 2);
    if (marker === 0xff52 && at + 11 <= cs.length) return { width, height, components, levels: cs[at + 9] };
    at += 2 + length;
  }
  throw new Error('the codestream has no coding style (COD) marker in its main header: it is damaged');
}

/** Helioviewer's FITS header from the XML boxes: keywords as connectors/fits gives them (numbers as numbers). */
export function fitsHeaderFromXml(xml: string[]): Record<string, unknown> | undefined {
  for (const text of xml) {
    const fits = /<fits>([\s\S]*?)<\/fits>/.exec(text);
    if (!fits) continue;
    const out: Record<string, unknown> = {};
    const history: string[] = [];
    const comments: string[] = [];
    for (const [, key, raw] of fits[1].matchAll(/<([A-Za-z0-9_\-]+)>([\s\S]*?)<\/\1>/g)) {
      const value = unescapeXml(raw).trim();
      if (key === 'HISTORY') history.push(...value.split('\n'));
      else if (key === 'COMMENT') comments.push(...value.split('\n'));
      else if (!(key in out)) out[key] = typed(value);
    }
    if (history.length) out.HISTORY = history;
    if (comments.length) out.COMMENT = comments;
    return out;
  }
  return undefined;
}

const unescapeXml = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

/** A number where the text is one (integers only while exact), else the text. */
function typed(value: string): unknown {
  if (/^[+-]?\d+$/.test(value)) return Number.isSafeInteger(Number(value)) ? Number(value) : value;
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eEdD][+-]?\d+)?$/.test(value)) return Number(value.replace(/[dD]/, 'e'));
  return value;
}

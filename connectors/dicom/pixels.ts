// The Image Pixel module (PS3.3 §C.7.6.3) → stored values, frame after frame. Samples of
// BitsAllocated bits hold BitsStored bits of value (high bit BitsStored − 1, as nearly every file
// has it): the bits above are masked off and, for PixelRepresentation 1, the value sign-extended
// from its own top bit. Monochrome images only (one sample a pixel): CT, MR, PET, X-ray.
import { checkBudget } from '../../src/io/limits.ts';
import { decodeFrame } from './codecs.ts';
import { transferSyntaxes, type DicomFile } from './dataset.ts';

export interface PixelModule {
  rows: number;
  columns: number;
  frames: number;
  bitsAllocated: 8 | 16 | 32;
  bitsStored: number;
  signed: boolean;
  photometric: string;
}

export function pixelModule(file: DicomFile): PixelModule {
  const ds = file.dataset;
  const need = (keyword: 'Rows' | 'Columns' | 'BitsAllocated') => {
    const v = ds.number(keyword);
    if (v === undefined) throw new Error(`no ${keyword}: not an image`);
    return v;
  };
  const samples = ds.number('SamplesPerPixel') ?? 1;
  const photometric = ds.string('PhotometricInterpretation') ?? 'MONOCHROME2';
  if (samples !== 1) throw new Error(`${samples} samples a pixel (${photometric}): only monochrome images are read`);
  const bitsAllocated = need('BitsAllocated');
  if (bitsAllocated !== 8 && bitsAllocated !== 16 && bitsAllocated !== 32) throw new Error(`BitsAllocated ${bitsAllocated}: only 8, 16 and 32 are read`);
  const bitsStored = ds.number('BitsStored') ?? bitsAllocated;
  if (bitsStored < 1 || bitsStored > bitsAllocated) throw new Error(`BitsStored ${bitsStored} does not fit BitsAllocated ${bitsAllocated}`);
  return {
    rows: need('Rows'), columns: need('Columns'), frames: ds.number('NumberOfFrames') ?? 1,
    bitsAllocated, bitsStored, signed: ds.number('PixelRepresentation') === 1, photometric,
  };
}

/** The frames of encapsulated pixel data: by the basic offset table, else one fragment a frame, else all in one. */
function encapsulatedFrames(fragments: Uint8Array[], frames: number): Uint8Array[] {
  const [table, ...data] = fragments;
  const join = (parts: Uint8Array[]) => (parts.length === 1 ? parts[0] : Buffer.concat(parts));
  if (frames === 1) return [join(data)];
  if (table.length >= 4 * frames) {
    const view = new DataView(table.buffer, table.byteOffset, table.byteLength);
    const starts = Array.from({ length: frames }, (_, i) => view.getUint32(4 * i, true));
    // Offsets count from the first fragment's item header; each fragment adds 8 header bytes.
    const positions: number[] = [];
    let at = 0;
    for (const d of data) {
      positions.push(at);
      at += d.length + 8;
    }
    return starts.map((start, i) => {
      const end = i + 1 < frames ? starts[i + 1] : Infinity;
      const parts = data.filter((_, k) => positions[k] >= start && positions[k] < end);
      if (parts.length === 0) throw new Error(`the basic offset table points frame ${i + 1} at byte ${start}, where no fragment starts`);
      return join(parts);
    });
  }
  if (data.length === frames) return data;
  throw new Error(`${frames} frames in ${data.length} fragments without a basic offset table: which fragment belongs to which frame is unknown`);
}

/** Stored values of every frame, in one array (frame-major, then rows, then columns). */
export async function storedValues(file: DicomFile, m: PixelModule): Promise<Float64Array> {
  const element = file.dataset.element('PixelData');
  if (!element) throw new Error('no PixelData (7FE0,0010): not an image');
  const frameSize = m.rows * m.columns;
  const bytesPerSample = m.bitsAllocated / 8;
  // The samples, these values and the slice's: budgeted before decoding (compressed frames can declare any size).
  const budget = () => checkBudget(frameSize * m.frames * (bytesPerSample + 16), 'the image');
  let little: Uint8Array;
  if (element.fragments) {
    budget();
    const frames = encapsulatedFrames(element.fragments, m.frames);
    const decoded = [];
    for (const frame of frames) decoded.push(await decodeFrame(file.transferSyntax, frame, { rows: m.rows, columns: m.columns, samplesPerPixel: 1, bytesPerSample }));
    little = decoded.length === 1 ? decoded[0] : Buffer.concat(decoded);
  } else {
    const bytes = file.dataset.value(element);
    const needed = frameSize * m.frames * bytesPerSample;
    if (bytes.length < needed) throw new Error(`PixelData holds ${bytes.length} bytes; ${m.frames} frame(s) of ${m.rows} × ${m.columns} × ${m.bitsAllocated} bits need ${needed}`);
    budget();
    little = bytes.subarray(0, needed);
    if (file.transferSyntax === transferSyntaxes.explicitBig && bytesPerSample > 1) {
      little = Uint8Array.from(little);
      for (let i = 0; i < little.length; i += bytesPerSample) little.subarray(i, i + bytesPerSample).reverse();
    }
  }
  const count = frameSize * m.frames;
  const view = new DataView(little.buffer, little.byteOffset, little.byteLength);
  const out = new Float64Array(count);
  const mask = m.bitsStored === 32 ? 0xffffffff : 2 ** m.bitsStored - 1;
  const top = 2 ** (m.bitsStored - 1);
  for (let i = 0; i < count; i++) {
    const word = bytesPerSample === 1 ? little[i] : bytesPerSample === 2 ? view.getUint16(2 * i, true) : view.getUint32(4 * i, true);
    const value = m.bitsStored === 32 ? word : word % (mask + 1); // the bits above BitsStored are not the value's
    out[i] = m.signed && value >= top ? value - 2 * top : value;
  }
  return out;
}

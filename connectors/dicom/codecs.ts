// Compressed pixel data, decoded by maintained codec builds from the npm registry rather than by
// decoders of our own: OpenJPEG (JPEG 2000) and libjpeg-turbo (8-bit JPEG baseline) as the
// Cornerstone project's WebAssembly builds, and JPEGLosslessDecoderJS (JPEG lossless, process 14).
// RLE Lossless is simple enough to be ours (rle.ts). Each WebAssembly module loads once per thread.
import { createRequire } from 'node:module';
import { decodeRle } from './rle.ts';

const require = createRequire(import.meta.url);

export const compressedSyntaxes: Record<string, string> = {
  '1.2.840.10008.1.2.4.50': 'JPEG baseline',
  '1.2.840.10008.1.2.4.57': 'JPEG lossless',
  '1.2.840.10008.1.2.4.70': 'JPEG lossless (first-order prediction)',
  '1.2.840.10008.1.2.4.90': 'JPEG 2000 lossless',
  '1.2.840.10008.1.2.4.91': 'JPEG 2000',
  '1.2.840.10008.1.2.5': 'RLE lossless',
};

/** What a frame decodes to: samples little-endian, `bytesPerSample` each, interleaved. */
export interface FrameFormat {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bytesPerSample: number;
}

interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number };
  decode(): void;
}

type Factory = (options: object) => Promise<Record<string, new () => WasmDecoder>>;
const quiet = { print: () => {}, printErr: () => {} }; // OpenJPEG logs every header it reads
const modules = new Map<string, Promise<WasmDecoder>>();

function wasmDecoder(path: string, className: string): Promise<WasmDecoder> {
  let decoder = modules.get(path);
  if (!decoder) {
    decoder = (require(path) as Factory)(quiet).then((module) => new module[className]());
    modules.set(path, decoder);
  }
  return decoder;
}

async function decodeWith(decoder: Promise<WasmDecoder>, frame: Uint8Array, f: FrameFormat, name: string): Promise<Uint8Array> {
  const d = await decoder;
  d.getEncodedBuffer(frame.length).set(frame);
  d.decode();
  const info = d.getFrameInfo();
  if (info.width !== f.columns || info.height !== f.rows || info.componentCount !== f.samplesPerPixel) {
    throw new Error(`the ${name} stream is ${info.width} × ${info.height} × ${info.componentCount}; the header says ${f.columns} × ${f.rows} × ${f.samplesPerPixel}`);
  }
  const bytes = d.getDecodedBuffer();
  const expected = f.rows * f.columns * f.samplesPerPixel * f.bytesPerSample;
  if (bytes.length !== expected) throw new Error(`the ${name} stream decodes to ${bytes.length} bytes, not the ${expected} of ${f.bytesPerSample}-byte samples`);
  return new Uint8Array(bytes); // a copy: the module's heap is reused by the next frame
}

/** One frame of a compressed transfer syntax → its samples (little-endian bytes). */
export async function decodeFrame(transferSyntax: string, frame: Uint8Array, f: FrameFormat): Promise<Uint8Array> {
  switch (transferSyntax) {
    case '1.2.840.10008.1.2.4.90':
    case '1.2.840.10008.1.2.4.91':
      return decodeWith(wasmDecoder('@cornerstonejs/codec-openjpeg/decodewasmjs', 'J2KDecoder'), frame, f, 'JPEG 2000');
    case '1.2.840.10008.1.2.4.50':
      if (f.bytesPerSample !== 1) throw new Error('a JPEG baseline frame holds 8-bit samples, but BitsAllocated says more');
      return decodeWith(wasmDecoder('@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs', 'JPEGDecoder'), frame, f, 'JPEG baseline');
    case '1.2.840.10008.1.2.4.57':
    case '1.2.840.10008.1.2.4.70': {
      const { Decoder } = require('jpeg-lossless-decoder-js') as { Decoder: new () => { decompress(buffer: ArrayBuffer, offset: number, length: number): ArrayBuffer } };
      const copy = new Uint8Array(frame); // its own buffer (a Buffer's slice would share the file's)
      const out = new Uint8Array(new Decoder().decompress(copy.buffer, 0, copy.length));
      const expected = f.rows * f.columns * f.samplesPerPixel * f.bytesPerSample;
      if (out.length !== expected) throw new Error(`the JPEG lossless stream decodes to ${out.length} bytes, not the ${expected} the header implies`);
      return out;
    }
    case '1.2.840.10008.1.2.5':
      return decodeRle(frame, f.rows * f.columns, f.bytesPerSample, f.samplesPerPixel);
    default:
      throw new Error(`transfer syntax ${transferSyntax} is not one quiver decodes (${['explicit/implicit VR', ...Object.values(compressedSyntaxes)].join(', ')})`);
  }
}

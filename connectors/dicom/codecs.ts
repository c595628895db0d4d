// Compressed pixel data, decoded by maintained codec builds from the npm registry rather than by
// decoders of our own: OpenJPEG (JPEG 2000) and libjpeg-turbo (8-bit JPEG baseline) as the
// Cornerstone project's WebAssembly builds, and JPEGLosslessDecoderJS (JPEG lossless, process 14).
// RLE Lossless is simple enough to be ours (rle.ts). Each WebAssembly module loads once per thread.
import { createRequire } from 'node:module';
import { messageOf } from '../../src/workflow/errors.ts';
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

type Module = Record<string, new () => WasmDecoder>;
const quiet = { print: () => {}, printErr: () => {} }; // OpenJPEG logs every header it reads
const modules = new Map<string, Promise<Module>>();
const decoders = new Map<string, WasmDecoder>();

async function wasmDecoder(path: string, className: string): Promise<WasmDecoder> {
  let module = modules.get(path);
  if (!module) {
    module = (require(path) as (options: object) => Promise<Module>)(quiet);
    modules.set(path, module);
  }
  const loaded = await module;
  let decoder = decoders.get(path);
  if (!decoder) {
    decoder = new loaded[className]();
    decoders.set(path, decoder);
  }
  return decoder;
}

function checkSize(got: Size, f: FrameFormat, name: string) {
  if (got.width !== f.columns || got.height !== f.rows || got.components !== f.samplesPerPixel) {
    throw new Error(`the ${name} stream is ${got.width} × ${got.height} × ${got.components}; the header says ${f.columns} × ${f.rows} × ${f.samplesPerPixel}`);
  }
}

async function decodeWith(path: string, className: string, frame: Uint8Array, f: FrameFormat, name: string): Promise<Uint8Array> {
  const d = await wasmDecoder(path, className);
  let bytes: Uint8Array;
  try {
    d.getEncodedBuffer(frame.length).set(frame);
    d.decode();
    bytes = d.getDecodedBuffer();
  } catch (error) {
    if (error instanceof Error) throw error;
    // A C++ exception inside the module arrives as a bare number; the decoder is not reused after one.
    decoders.delete(path);
    throw new Error(`the ${name} stream is damaged: the decoder stopped at an error in it`);
  }
  const expected = f.rows * f.columns * f.samplesPerPixel * f.bytesPerSample;
  if (bytes.length !== expected) throw new Error(`the ${name} stream decodes to ${bytes.length} bytes, not the ${expected} of ${f.bytesPerSample}-byte samples`);
  return new Uint8Array(bytes); // a copy: the module's heap is reused by the next frame
}

type Size = { width: number; height: number; components: number };

/** The frame header (SOFn) of a JPEG stream: its size, read before a decoder allocates for it. */
function jpegFrameSize(frame: Uint8Array, name: string): Size {
  for (let at = 2; at + 9 < frame.length && frame[at] === 0xff;) {
    const marker = frame[at + 1];
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: (frame[at + 5] << 8) | frame[at + 6], width: (frame[at + 7] << 8) | frame[at + 8], components: frame[at + 9] };
    }
    at += 2 + ((frame[at + 2] << 8) | frame[at + 3]);
  }
  throw new Error(`the ${name} stream has no frame header before its data: it is damaged`);
}

/** The SIZ marker of a JPEG 2000 codestream (after SOC, in a JP2 file inside its jp2c box): the image's size. */
function j2kFrameSize(frame: Uint8Array): Size {
  const at = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).indexOf(Buffer.from([0xff, 0x4f, 0xff, 0x51]));
  if (at < 0 || at + 42 > frame.length) throw new Error('the JPEG 2000 stream has no image header (SIZ): it is damaged');
  const view = new DataView(frame.buffer, frame.byteOffset + at + 4);
  return { width: view.getUint32(4) - view.getUint32(12), height: view.getUint32(8) - view.getUint32(16), components: view.getUint16(36) };
}

/** One frame of a compressed transfer syntax → its samples (little-endian bytes). */
export async function decodeFrame(transferSyntax: string, frame: Uint8Array, f: FrameFormat): Promise<Uint8Array> {
  switch (transferSyntax) {
    case '1.2.840.10008.1.2.4.90':
    case '1.2.840.10008.1.2.4.91':
      checkSize(j2kFrameSize(frame), f, 'JPEG 2000'); // before the decoder allocates for the stream's own size
      return decodeWith('@cornerstonejs/codec-openjpeg/decodewasmjs', 'J2KDecoder', frame, f, 'JPEG 2000');
    case '1.2.840.10008.1.2.4.50':
      if (f.bytesPerSample !== 1) throw new Error('a JPEG baseline frame holds 8-bit samples, but BitsAllocated says more');
      checkSize(jpegFrameSize(frame, 'JPEG baseline'), f, 'JPEG baseline');
      return decodeWith('@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs', 'JPEGDecoder', frame, f, 'JPEG baseline');
    case '1.2.840.10008.1.2.4.57':
    case '1.2.840.10008.1.2.4.70': {
      const { Decoder } = require('jpeg-lossless-decoder-js') as { Decoder: new () => { decompress(buffer: ArrayBuffer, offset: number, length: number): ArrayBuffer } };
      checkSize(jpegFrameSize(frame, 'JPEG lossless'), f, 'JPEG lossless');
      const copy = new Uint8Array(frame); // its own buffer (a Buffer's slice would share the file's)
      let out: Uint8Array;
      try {
        out = new Uint8Array(new Decoder().decompress(copy.buffer, 0, copy.length));
      } catch (error) {
        throw new Error(`the JPEG lossless stream is damaged (${messageOf(error)})`);
      }
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

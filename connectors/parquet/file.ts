// Opening Parquet files with parquet-wasm: a check of the magic and footer length first (so that
// a file that is not Parquet, or cut short, gets a sentence saying so), then parquet-wasm's
// ParquetFile over a Blob of the bytes (a local file, or an S3 object read by ranged GETs: see
// src/io/byte-reader.ts), which reads the footer and later only the byte ranges of the row groups
// asked for. Every call goes through a guarded instance (wasm.ts): a panic on a
// corrupt file is an error, not a crash or a hang.
import type * as pw from 'parquet-wasm';
import type { Schema } from 'apache-arrow';
import { decodeBatches } from '../../src/arrow/ipc.ts';
import type { ByteReader } from '../../src/io/byte-reader.ts';
import { InputError, messageOf } from '../../src/workflow/errors.ts';
import { ParquetPanic, WasmInstance, parquetWasm } from './wasm.ts';

const PAR1 = 0x31524150; // 'PAR1' little-endian
const PARE = 0x45524150; // encrypted footer

/**
 * Checks what parquet-wasm would otherwise report vaguely: magic bytes and footer length. Returns
 * the bytes the footer takes at the end, its length and magic included.
 */
export async function checkParquetFile(bytes: ByteReader): Promise<number> {
  const { size, name: file } = bytes;
  if (size === 0) throw new InputError(file, 'not a Parquet file (empty)');
  const head = new Uint8Array(4);
  head.set(await bytes.read(0, Math.min(4, size), 'the magic bytes'));
  const magic = new DataView(head.buffer).getUint32(0, true);
  if (size < 4 || magic !== PAR1) {
    throw new InputError(file, magic === PARE
      ? 'encrypted Parquet files are not supported'
      : 'not a Parquet file (bad magic: it does not start with PAR1)');
  }
  if (size < 12) throw new InputError(file, `truncated: a Parquet file needs at least 12 bytes, this one has ${size}`);
  const tail = await bytes.read(size - 8, 8, 'the footer length');
  const view = new DataView(tail.buffer, tail.byteOffset, 8);
  if (view.getUint32(4, true) !== PAR1) {
    throw new InputError(file, view.getUint32(4, true) === PARE
      ? 'encrypted Parquet files are not supported'
      : 'truncated: it starts with PAR1 but does not end with it (cut short, or still being written?)');
  }
  const footer = view.getUint32(0, true);
  if (footer + 12 > size) throw new InputError(file, `truncated: footer says ${footer} bytes but the file has ${size}`);
  return footer + 8;
}

/** An open file: parquet-wasm's ParquetFile, and the instance it lives in (its calls go through it). */
export interface OpenParquet {
  wasm: WasmInstance;
  file: pw.ParquetFile;
}

/**
 * A ParquetFile over the bytes (footer read, data not). `checked`: checkParquetFile passed on these
 * very bytes already (an S3 object's, at discovery, pinned by its ETag), so its reads are spared.
 */
export async function openParquet(bytes: ByteReader, checked = false): Promise<OpenParquet> {
  const file = bytes.name;
  if (!checked) await checkParquetFile(bytes);
  const blob = await bytes.blob();
  const wasm = parquetWasm();
  try {
    return { wasm, file: await wasm.run((pw) => pw.ParquetFile.fromFile(blob)) };
  } catch (error) {
    throw new InputError(file, `cannot read the Parquet footer: ${messageOf(error)}`);
  }
}

/** What discover needs from a footer: the Arrow schema and, per row group, rows and bytes (of `columns`). */
export interface FooterInfo {
  schema: Schema;
  groups: { rows: number; bytes: number }[];
}

/** Reads a file's footer (checked first) and frees what parquet-wasm made of it again. */
export async function readFooter(bytes: ByteReader, columns?: string[]): Promise<FooterInfo> {
  const file = bytes.name;
  await checkParquetFile(bytes);
  const blob = await bytes.blob();
  const attempt = async (wasm: WasmInstance) => {
    const handle = await wasm.run((pw) => pw.ParquetFile.fromFile(blob));
    try {
      return await wasm.run(() => ({ schema: arrowSchema(handle), groups: rowGroups(handle, columns) }));
    } finally {
      closeParquet({ wasm, file: handle });
    }
  };
  try {
    try {
      return await attempt(parquetWasm());
    } catch (error) {
      if (!(error instanceof ParquetPanic)) throw error;
      // Footers are read several at a time, and a panic fails every call in flight on the instance:
      // this file's again on an instance of its own, so that the panic is pinned on the right file.
      return await attempt(new WasmInstance());
    }
  } catch (error) {
    throw new InputError(file, `cannot read the Parquet footer: ${messageOf(error)}`);
  }
}

/** Frees what parquet-wasm holds for the file, unless its instance is gone. */
export function closeParquet({ wasm, file }: OpenParquet): void {
  if (wasm.panic) return;
  try {
    file.free();
  } catch {
    // freeing cannot fail on a sound instance; on a broken one there is nothing left to free
  }
}

/** The Arrow schema parquet-wasm reads the file as. */
export function arrowSchema(file: pw.ParquetFile): Schema {
  return decodeBatches(file.schema().intoIPCStream()).schema;
}

/** Per row group: rows, and uncompressed bytes of the columns read (all, or `columns`). */
export function rowGroups(file: pw.ParquetFile, columns?: string[]): { rows: number; bytes: number }[] {
  const metadata = file.metadata();
  try {
    const wanted = columns && new Set(columns);
    return metadata.rowGroups().map((group) => {
      try {
        let bytes = 0;
        if (!wanted) bytes = group.totalByteSize();
        else {
          for (const column of group.columns()) {
            if (wanted.has(column.columnPath()[0])) bytes += column.uncompressedSize();
            column.free();
          }
        }
        return { rows: group.numRows(), bytes };
      } finally {
        group.free();
      }
    });
  } finally {
    metadata.free();
  }
}

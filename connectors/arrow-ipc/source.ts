// `source.arrow`: Arrow IPC files (`ARROW1` magic and footer, also called Feather V2) and streams,
// told apart by their bytes (sink.ts: `sink.arrow`).
//
// Reading: discover reads each file's schema only (the footer, or the stream's first message).
// A partition's chunks are groups of record batches up to `chunkBytes`: from the footer's blocks
// for the file format, from a scan of message headers for streams (bodies are skipped). A worker
// reads only the byte ranges of its chunk, with the schema and the dictionary messages that its
// batches need, and decodes them. Bodies compressed with LZ4_FRAME (pyarrow's Feather default)
// are decompressed here; ZSTD bodies fail with a message saying so.
//
// Damaged files: every flatbuffer is verified before Arrow JS decodes it (arrow-ipc/verify.ts), and
// every decoded batch is checked against its own lengths (arrow-ipc/validate.ts), so damage is an
// InputError naming the file and what is wrong, never a hang or an error from inside a decoder.
//
// Writing: batches are encoded one at a time and appended to the output file as they arrive.
import { open } from 'node:fs/promises';
import type { RecordBatch, Schema } from 'apache-arrow';
import { z } from 'zod';
import { decodeBatches } from '../../src/arrow/ipc.ts';
import { InputError, messageOf } from '../../src/workflow/errors.ts';
import { defineSource, type Chunk } from '../../src/workflow/stage.ts';
import { describeEach, firstReadable, partitionsOf } from '../../src/io/file-discovery.ts';
import { conformBatch, matchFiles, mergeSchema, readAt } from '../../src/io/input-files.ts';
import { MAX_CHUNK_BYTES } from '../../src/io/limits.ts';
import { Lz4Error } from './lz4.ts';
import { declaredRows, decodeInPlace, footerSchemaMessage, joinMessages, readLayout, scanStream, schemaRange, type IpcLayout, type Range } from './messages.ts';
import { checkBatch } from './validate.ts';

const sourceParams = z.object({
  path: z.string().min(1).describe('an Arrow IPC file or stream, or a glob; relative to the workflow folder'),
  chunkBytes: z.number().int().min(1).max(MAX_CHUNK_BYTES, `must be at most ${MAX_CHUNK_BYTES} (1 GiB): a worker holds a chunk in memory`)
    .default(16 * 1024 * 1024).describe('bytes of record batches a worker reads at a time'),
}).strict();

/** What a worker reads: byte ranges of one file. */
interface ArrowChunk extends Chunk {
  path: string;
  /** Where the schema is: a stream's first message, or the file format's footer. */
  schema: Range;
  schemaIn: 'message' | 'footer';
  /** Dictionary messages the chunk's batches need, in file order. */
  dictionaries: Range[];
  /** The chunk's record batches (and, in streams, dictionary messages between them), in order. */
  ranges: Range[];
  batches: number;
  bytes: number;
  /** File format: each record batch's own range, so a damaged one can be set aside alone. */
  blocks?: Range[];
}

const rangeEnd = (ranges: Range[]) => {
  const last = ranges[ranges.length - 1];
  return last ? last[0] + last[1] : 0;
};

const addRange = (ranges: Range[], [offset, length]: Range) => {
  const last = ranges[ranges.length - 1];
  if (last && last[0] + last[1] === offset) last[1] += length;
  else ranges.push([offset, length]);
};

async function* chunksOf(path: string, key: string, size: number, layout: IpcLayout, chunkBytes: number): AsyncGenerator<ArrowChunk> {
  if (layout.format === 'file') {
    // The footer lists every block: no need to open the file again.
    let chunk: ArrowChunk | undefined;
    for (const range of layout.batches!) {
      chunk ??= { path, schema: layout.footer!, schemaIn: 'footer', dictionaries: layout.dictionaries!, ranges: [], batches: 0, bytes: 0, blocks: [] };
      addRange(chunk.ranges, range);
      chunk.blocks!.push([...range]);
      chunk.batches++;
      chunk.bytes += range[1];
      if (chunk.bytes >= chunkBytes) {
        yield chunk;
        chunk = undefined;
      }
    }
    if (chunk) yield chunk;
    return;
  }
  const handle = await open(path, 'r');
  try {
    const schema = await schemaRange(handle, size, key);
    // Dictionary state: per id, the last replacement and the deltas after it.
    const state = new Map<number, Range[]>();
    let chunk: ArrowChunk | undefined;
    for await (const batch of scanStream(handle, size, key)) {
      for (const u of batch.updates) {
        if (u.isDelta && state.has(u.id)) state.get(u.id)!.push(u.range);
        else state.set(u.id, [u.range]);
      }
      if (!chunk) {
        // Dictionary messages before the chunk's first batch travel as its dictionary state;
        // those between its batches are inside its byte ranges.
        const dictionaries = [...state.values()].flat().sort((a, b) => a[0] - b[0]);
        chunk = { path, schema, schemaIn: 'message', dictionaries, ranges: [], batches: 0, bytes: 0 };
      } else {
        for (const u of batch.updates) {
          addRange(chunk.ranges, u.range);
          chunk.bytes += u.range[1];
        }
      }
      addRange(chunk.ranges, batch.range);
      chunk.batches++;
      chunk.bytes += batch.range[1];
      if (chunk.bytes >= chunkBytes) {
        yield chunk;
        chunk = undefined;
      }
    }
    if (chunk) yield chunk;
  } finally {
    await handle.close();
  }
}

export const arrowSource = defineSource({
  name: 'source.arrow',
  kind: 'source',
  version: '1',
  description: 'Arrow IPC files and streams (.arrow, .arrows, .feather, .ipc); one partition per file.',
  extensions: ['.arrow', '.arrows', '.feather', '.ipc'],
  params: sourceParams,
  async discover(p, ctx) {
    const files = await matchFiles(p.path, ctx);
    const described = await describeEach(files, 16, async (f) => {
      const handle = await open(f.path, 'r');
      try {
        return await readLayout(handle, f.bytes, f.key);
      } finally {
        await handle.close();
      }
    });
    const first = firstReadable(described);
    let schema = first.info.schema;
    const partitions = partitionsOf(described, (f, layout) => {
      schema = mergeSchema(schema, layout.schema, f.key, first.file.key);
      return [{ key: f.key, file: f.path, bytes: f.bytes, chunks: () => chunksOf(f.path, f.key, f.bytes, layout, p.chunkBytes) }];
    });
    return { schema, partitions };
  },
  async *read(raw, _p, { schema, partition, reject }) {
    const chunk = raw as ArrowChunk;
    const file = partition.key;
    try {
      yield* await readBatches(chunk, schema, file);
    } catch (error) {
      if (!reject || !chunk.blocks?.length || !(error instanceof InputError)) throw error;
      // One damaged record batch costs only its own rows: the chunk's batches one at a time.
      for (const [i, block] of chunk.blocks.entries()) {
        let batches: RecordBatch[];
        try {
          batches = await readBatches({ ...chunk, ranges: [block], batches: 1, blocks: undefined }, schema, file);
        } catch (lost) {
          const rows = await batchRows(chunk.path, block, file);
          reject(`${messageOf(lost)} (record batch ${i + 1} of ${chunk.blocks.length} in this chunk${rows === undefined ? ', its row count unreadable' : ''})`, rows ?? 1);
          continue;
        }
        yield* batches;
      }
    }
  },
});

/** The rows a record batch's header declares, read again on its own; undefined if unreadable. */
async function batchRows(path: string, [offset, length]: Range, file: string): Promise<number | undefined> {
  const handle = await open(path, 'r');
  try {
    return declaredRows(await readAt(handle, offset, length, file, 'a record batch'), file);
  } catch {
    return undefined;
  } finally {
    await handle.close();
  }
}

/** The batches of a chunk, checked: all of them, or an InputError. */
async function readBatches(chunk: ArrowChunk, schema: Schema, file: string): Promise<RecordBatch[]> {
  const handle = await open(chunk.path, 'r');
  let bytes: Uint8Array;
  let batches: RecordBatch[] | undefined;
  try {
    const messages: Uint8Array[] = [];
    for (const [offset, length] of [...chunk.dictionaries, ...chunk.ranges]) {
      messages.push(await readAt(handle, offset, length, file, `the messages at byte ${offset}`));
    }
    batches = chunk.dictionaries.length === 0 ? decodeInPlace(messages, schema, file) : undefined;
    if (batches && batches.length !== chunk.batches) {
      throw new InputError(file, `corrupt: expected ${chunk.batches} record batches in bytes ${chunk.ranges[0]?.[0]}-${rangeEnd(chunk.ranges)}, decoded ${batches.length}`);
    }
    if (batches) {
      for (const batch of batches) checkBatch(batch, file, `in bytes ${chunk.ranges[0]?.[0]}-${rangeEnd(chunk.ranges)}`);
      return batches;
    }
    const schemaMessage = chunk.schemaIn === 'footer'
      ? await footerSchemaMessage(handle, chunk.path, chunk.schema, file)
      : await readAt(handle, chunk.schema[0], chunk.schema[1], file, 'the schema');
    try {
      bytes = joinMessages([schemaMessage, ...messages], file);
    } catch (error) {
      throw error instanceof Lz4Error ? new InputError(file, `corrupt record batch in bytes ${chunk.ranges[0]?.[0]}-${rangeEnd(chunk.ranges)}: ${error.message}`) : error;
    }
  } finally {
    await handle.close();
  }
  try {
    batches = decodeBatches(bytes).batches.map((b) => conformBatch(b, schema));
  } catch (error) {
    throw new InputError(file, `corrupt record batch in bytes ${chunk.ranges[0]?.[0]}-${rangeEnd(chunk.ranges)}: ${messageOf(error)}`);
  }
  if (batches.length !== chunk.batches) {
    throw new InputError(file, `corrupt: expected ${chunk.batches} record batches in bytes ${chunk.ranges[0]?.[0]}-${rangeEnd(chunk.ranges)}, decoded ${batches.length}`);
  }
  // Decoders trust the lengths in a batch's header; a damaged one must fail here, not downstream.
  for (const batch of batches) checkBatch(batch, file, `in bytes ${chunk.ranges[0]?.[0]}-${rangeEnd(chunk.ranges)}`);
  return batches;
}

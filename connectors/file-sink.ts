// The file layout shared by every sink: `x.ext` is one file holding all partitions in partition
// order; `dir/` is one file per partition, named after the partition's input file.
import { isAbsolute, join, normalize, parse } from 'node:path';
import type { Schema } from 'apache-arrow';
import { z } from 'zod';
import type { OutputRecord, PartitionInfo, SinkWriter } from '../src/workflow/stage.ts';
import { OutputFile } from './output-file.ts';

/** Writes one file's content: batches in, bytes out to `file`. */
export interface FormatWriter {
  write(batch: import('apache-arrow').RecordBatch): void | Promise<void>;
  /** Writes whatever ends the file (footer, last row group). */
  finish(): void | Promise<void>;
}

export type OpenFormat = (file: OutputFile, schema: Schema) => FormatWriter | Promise<FormatWriter>;

/** The `path` param of every sink: relative to the run's output folder, inside it. */
export const outputPath = z.string().min(1).refine((p) => !isAbsolute(p) && !normalize(p).startsWith('..'), {
  message: "must be a path inside the output folder (relative, without '..')",
});

export function fileSink(path: string, extension: string, ctx: { schema: Schema; outDir: string }, openFormat: OpenFormat): SinkWriter {
  const perPartition = path.endsWith('/');
  const files: OutputFile[] = [];
  const usedNames = new Set<string>();
  let current: { file: OutputFile; writer: FormatWriter } | undefined;

  const start = async (target: string) => {
    const file = new OutputFile(join(ctx.outDir, target));
    files.push(file);
    current = { file, writer: await openFormat(file, ctx.schema) };
  };
  const finish = async () => {
    if (!current) return;
    await current.writer.finish();
    await current.file.finish();
    current = undefined;
  };
  const nameFor = (partition: PartitionInfo) => {
    const base = parse(partition.key).name || `part-${partition.index}`;
    let name = `${base}.${extension}`;
    if (usedNames.has(name)) name = `${base}-${String(partition.index).padStart(5, '0')}.${extension}`;
    usedNames.add(name);
    return join(path, name);
  };

  return {
    async startPartition(partition) {
      if (perPartition) await start(nameFor(partition));
      else if (!current && files.length === 0) await start(path);
    },
    async write(batch) {
      await current!.writer.write(batch);
    },
    async endPartition() {
      if (perPartition) await finish();
    },
    async commit(): Promise<OutputRecord[]> {
      if (!perPartition && files.length === 0) await start(path); // no partitions: still a valid, empty file
      await finish();
      const records: OutputRecord[] = [];
      for (const file of files) records.push({ path: file.path, bytes: file.size, sha256: await file.commit() });
      return records;
    },
    async abort() {
      await Promise.all(files.map((f) => f.abort()));
    },
  };
}

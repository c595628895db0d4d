// The file layout shared by every sink: `x.ext` is one file holding all partitions in partition
// order; `dir/` is one file per partition, named after the partition's input file.
import { dirname, isAbsolute, join, normalize, parse } from 'node:path';
import type { Schema } from 'apache-arrow';
import { z } from 'zod';
import { isInside, realPath } from '../workflow/paths.ts';
import type { OutputRecord, PartitionInfo, SinkWriter } from '../workflow/stage.ts';
import { OutputFile } from './output-file.ts';

/** Writes one file's content: batches in, bytes out to `file`. */
export interface FormatWriter {
  write(batch: import('apache-arrow').RecordBatch): void | Promise<void>;
  /** Writes whatever ends the file (footer, last row group). */
  finish(): void | Promise<void>;
}

export type OpenFormat = (file: OutputFile, schema: Schema) => FormatWriter | Promise<FormatWriter>;

/** The `path` param of every sink: relative to the run's output folder, inside it, outside `.quiver/`. */
export const outputPath = z.string().min(1).refine((p) => !isAbsolute(p) && !normalize(p).startsWith('..'), {
  message: "must be a path inside the output folder (relative, without '..')",
}).refine((p) => normalize(p).split(/[\\/]/)[0] !== '.quiver', {
  message: "must not be in .quiver/, which holds the run records and the cache",
});

/**
 * Where a sink's `path` (relative to `outDir`) is written, absolute; checked on the real path
 * before anything is made, so a link cannot lead the write out of the output folder or into
 * `.quiver/`. The last part may be a link: the finished file is renamed over it, not written through.
 */
export function sinkFile(outDir: string, path: string): string {
  const target = join(outDir, path);
  const realOut = realPath(outDir);
  const realFolder = realPath(dirname(target));
  if (!isInside(realFolder, realOut)) {
    throw new Error(`sink path '${path}' leads to ${realFolder}, outside the output folder ${outDir}; links out of it are not followed`);
  }
  if (isInside(realFolder, join(realOut, '.quiver'))) {
    throw new Error(`sink path '${path}' leads into ${join(outDir, '.quiver')}, which holds the run records and the cache`);
  }
  return target;
}

/** For a sink `path` that asks for a file per partition (`dir/`), each partition's file. */
export const partitionFiles = (path: string, extension: string, partitions: PartitionInfo[]): string[] | undefined => {
  if (!path.endsWith('/')) return undefined;
  const nameOf = partitionNamer(path, extension, partitions);
  return partitions.map(nameOf);
};

/**
 * The file of each partition in `dir/`: its input file's name with the extension changed, and the
 * partition index added where two partitions would get the same name. Named from the whole list
 * when it is known, so a partition's name does not depend on which others are written this time.
 */
function partitionNamer(dir: string, extension: string, all: PartitionInfo[]): (p: PartitionInfo) => string {
  const names = new Map<number, string>();
  const used = new Set<string>();
  const nameOf = (p: PartitionInfo) => {
    let name = names.get(p.index);
    if (name === undefined) {
      // `ct.nii.gz` is named `ct`, not `ct.nii`.
      const base = parse(p.key).name.replace(/\.nii$/, '') || `part-${p.index}`;
      name = `${base}.${extension}`;
      if (used.has(name)) name = `${base}-${String(p.index).padStart(5, '0')}.${extension}`;
      used.add(name);
      names.set(p.index, name);
    }
    return join(dir, name);
  };
  all.forEach(nameOf);
  return nameOf;
}

export function fileSink(
  path: string, extension: string, ctx: { schema: Schema; outDir: string; partitions?: PartitionInfo[] }, openFormat: OpenFormat,
): SinkWriter {
  const perPartition = path.endsWith('/');
  const nameFor = partitionNamer(path, extension, ctx.partitions ?? []);
  const files: { file: OutputFile; partition?: number }[] = [];
  let current: { file: OutputFile; writer: FormatWriter } | undefined;

  const start = async (target: string, partition?: number) => {
    const file = new OutputFile(sinkFile(ctx.outDir, target));
    files.push({ file, partition });
    current = { file, writer: await openFormat(file, ctx.schema) };
  };
  const finish = async () => {
    if (!current) return;
    await current.writer.finish();
    await current.file.finish();
    current = undefined;
  };

  return {
    async startPartition(partition) {
      if (perPartition) await start(nameFor(partition), partition.index);
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
      for (const { file, partition } of files) {
        records.push({ path: file.path, bytes: file.size, sha256: await file.commit(), ...(partition !== undefined ? { partition } : {}) });
      }
      return records;
    },
    async abort() {
      await Promise.all(files.map((f) => f.file.abort()));
    },
  };
}

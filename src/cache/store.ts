// The task cache under OUT/.quiver/cache/, content-addressed:
//   streams/ab/KEY.qstream  a stage output partition's batches (stream-file.ts)
//   records/ab/KEY.json     what the stage did for that partition (rows, seconds)
//   sinks/KEY.json          the files a sink wrote, by sha256
//   files/ab/SHA256         those files' bytes: hard links to the outputs, so they cost no space
//   inputs/                 remembered input file hashes (input-hashes.ts)
// Every entry appears complete or not at all (temporary name, then rename), so a run killed at
// any moment leaves a usable cache; a record is written only after its stream.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { copyFile, link, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { RecordBatch, Schema } from 'apache-arrow';
import { sha256OfFile } from './input-hashes.ts';
import { readStreamFile, StreamFileWriter } from './stream-file.ts';

export interface TaskRecord {
  rowsIn: number;
  rowsOut: number;
  quarantined: number;
  /** Seconds the stage spent computing it, when it was computed. */
  seconds: number;
}

export interface SinkRecord {
  /** Paths relative to the output folder. */
  outputs: { path: string; sha256: string; bytes: number }[];
  rowsIn: number;
  partitions: number;
  /**
   * Per output: size and modification time of its kept file when the record was written. The kept
   * file is a hard link to the output, so a program that rewrites the output in place rewrites it
   * too; a kept file that no longer matches is not served (written by writeSinkRecord).
   */
  kept?: { bytes: number; mtimeMs: number }[];
}

const fanOut = (key: string) => key.slice(0, 2);

export class CacheStore {
  constructor(readonly dir: string) {}

  streamPath(key: string): string {
    return join(this.dir, 'streams', fanOut(key), `${key}.qstream`);
  }

  recordPath(key: string): string {
    return join(this.dir, 'records', fanOut(key), `${key}.json`);
  }

  sinkPath(key: string): string {
    return join(this.dir, 'sinks', `${key}.json`);
  }

  filePath(sha256: string): string {
    return join(this.dir, 'files', fanOut(sha256), sha256);
  }

  get inputsDir(): string {
    return join(this.dir, 'inputs');
  }

  hasStream(key: string): boolean {
    return existsSync(this.streamPath(key));
  }

  record(key: string): TaskRecord | undefined {
    return readJson<TaskRecord>(this.recordPath(key));
  }

  writeRecord(key: string, record: TaskRecord): Promise<void> {
    return writeJsonAtomically(this.recordPath(key), record);
  }

  openStream(key: string, schema: Schema): StreamFileWriter {
    return new StreamFileWriter(this.streamPath(key), schema);
  }

  readStream(key: string): AsyncGenerator<RecordBatch> {
    return readStreamFile(this.streamPath(key));
  }

  /** The sink's record, if every file it lists is still in the cache, unchanged since it was kept. */
  sinkRecord(key: string): SinkRecord | undefined {
    const record = readJson<SinkRecord>(this.sinkPath(key));
    // Fix: existence alone is not enough: a kept file is a hard link to the output it came from,
    // so an output rewritten in place (open, truncate, write) changes the cached bytes too, and
    // restoring it would serve (and record the sha256 of) bytes the sink never wrote.
    const intact = (o: SinkRecord['outputs'][number], i: number) => {
      const st = statSync(this.filePath(o.sha256), { throwIfNoEntry: false });
      const kept = record?.kept?.[i];
      return !!st && (!kept || (st.size === kept.bytes && st.mtimeMs === kept.mtimeMs));
    };
    return record && record.outputs.every(intact) ? record : undefined;
  }

  async writeSinkRecord(key: string, record: SinkRecord, outDir: string): Promise<void> {
    const kept: SinkRecord['kept'] = [];
    for (const o of record.outputs) {
      const target = await this.keepFile(join(outDir, o.path), o.sha256);
      const st = statSync(target);
      kept.push({ bytes: st.size, mtimeMs: st.mtimeMs });
    }
    await writeJsonAtomically(this.sinkPath(key), { ...record, kept });
  }

  /** Keeps a committed output's bytes under its sha256 (a hard link where the filesystem allows). */
  private async keepFile(path: string, sha256: string): Promise<string> {
    const target = this.filePath(sha256);
    // Fix: a kept file of that name may have been changed through a hard link since it was kept
    // (see sinkRecord). One that still has its bytes stays (other records name it: outputs with
    // the same bytes share it); one that does not is replaced by the output just written.
    const there = statSync(target, { throwIfNoEntry: false });
    if (there && (there.ino === statSync(path).ino || (await sha256OfFile(target)) === sha256)) return target;
    await mkdir(dirname(target), { recursive: true });
    const temp = `${target}.${process.pid}.tmp`;
    await link(path, temp).catch(() => copyFile(path, temp));
    await rename(temp, target);
    return target;
  }

  /** Puts a kept file at `path` again, unless the same file is already there. */
  async restoreFile(sha256: string, path: string): Promise<void> {
    const source = this.filePath(sha256);
    const here = statSync(path, { throwIfNoEntry: false });
    if (here && here.ino === statSync(source).ino) return;
    await mkdir(dirname(path), { recursive: true });
    const temp = join(dirname(path), `.restore.${process.pid}.tmp`);
    await rm(temp, { force: true });
    await link(source, temp).catch(() => copyFile(source, temp));
    await rename(temp, path);
  }
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined; // absent, or cut short by a crash: as good as absent
  }
}

async function writeJsonAtomically(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(value));
  await rename(temp, path);
}

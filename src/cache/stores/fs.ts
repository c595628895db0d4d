// A store in a folder (today OUT/.quiver/cache/):
//   streams/ab/KEY.qstream  stream entries (stream-file.ts)
//   records/ab/KEY.json     task records
//   sinks/KEY.json          sink records
//   files/ab/SHA256         kept files: hard links to the outputs, so they cost no space
// Entries are written under a temporary name and renamed into place, so a process killed at any
// moment leaves a usable store.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { copyFile, link, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { RecordBatch, Schema } from 'apache-arrow';
import { writeFileAtomic } from '../../io/atomic-file.ts';
import { makeFolder } from '../../io/make-folder.ts';
import { sha256OfFile } from '../../io/file-hash.ts';
import type { FileStamp, RecordKind, Store, StoreEntry } from '../store.ts';
import { readStreamFile, StreamFileWriter } from '../stream-file.ts';

const fanOut = (key: string) => key.slice(0, 2);

export class FsStore implements Store {
  constructor(readonly location: string) {}

  private streamPath(key: string): string {
    return join(this.location, 'streams', fanOut(key), `${key}.qstream`);
  }

  private recordPath(kind: RecordKind, key: string): string {
    return kind === 'sink' ? join(this.location, 'sinks', `${key}.json`) : join(this.location, 'records', fanOut(key), `${key}.json`);
  }

  private filePath(sha256: string): string {
    return join(this.location, 'files', fanOut(sha256), sha256);
  }

  async hasStream(key: string): Promise<boolean> {
    return existsSync(this.streamPath(key));
  }

  writeStream(key: string, schema: Schema): StreamFileWriter {
    return new StreamFileWriter(this.streamPath(key), schema);
  }

  readStream(key: string): AsyncGenerator<RecordBatch> {
    return readStreamFile(this.streamPath(key));
  }

  async readRecord<T>(kind: RecordKind, key: string): Promise<T | undefined> {
    try {
      return JSON.parse(readFileSync(this.recordPath(kind, key), 'utf8')) as T;
    } catch {
      return undefined; // absent, or cut short by a crash: as good as absent
    }
  }

  async writeRecord(kind: RecordKind, key: string, value: unknown): Promise<void> {
    const path = this.recordPath(kind, key);
    makeFolder(dirname(path));
    await writeFileAtomic(path, JSON.stringify(value));
  }

  async keepFile(path: string, sha256: string): Promise<FileStamp> {
    const target = this.filePath(sha256);
    // A kept file of that name may have been changed through a hard link since it was kept (see
    // FileStamp). One that still has its bytes stays (outputs with the same bytes share it); one
    // that does not is replaced by the output just written.
    const there = statSync(target, { throwIfNoEntry: false });
    if (!there || (there.ino !== statSync(path).ino && (await sha256OfFile(target)) !== sha256)) {
      makeFolder(dirname(target));
      const temp = `${target}.${process.pid}.tmp`;
      await link(path, temp).catch(() => copyFile(path, temp));
      await rename(temp, target);
    }
    const { size, mtimeMs } = statSync(target);
    return { bytes: size, mtimeMs };
  }

  async hasFile(sha256: string, stamp?: FileStamp): Promise<boolean> {
    const st = statSync(this.filePath(sha256), { throwIfNoEntry: false });
    return !!st && (!stamp || (st.size === stamp.bytes && st.mtimeMs === stamp.mtimeMs));
  }

  async restoreFile(sha256: string, path: string): Promise<void> {
    const source = this.filePath(sha256);
    const here = statSync(path, { throwIfNoEntry: false });
    if (here && here.ino === statSync(source).ino) return;
    makeFolder(dirname(path));
    const temp = join(dirname(path), `.restore.${process.pid}.tmp`);
    await rm(temp, { force: true });
    await link(source, temp).catch(() => copyFile(source, temp));
    await rename(temp, path);
  }

  async *list(): AsyncGenerator<StoreEntry> {
    for (const [kind, folder] of [['stream', 'streams'], ['task', 'records'], ['sink', 'sinks'], ['file', 'files']] as const) {
      let entries;
      try {
        entries = readdirSync(join(this.location, folder), { recursive: true, withFileTypes: true });
      } catch {
        continue; // nothing stored of this kind
      }
      for (const entry of entries) {
        if (!entry.isFile() || entry.name.endsWith('.tmp')) continue;
        const { size, nlink } = statSync(join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name));
        // Names are KEY.qstream, KEY.json or SHA256: the key is what comes before the first dot.
        // A file still linked from an output folder frees nothing when removed.
        yield { kind, key: entry.name.split('.')[0], bytes: nlink === 1 ? size : 0 };
      }
    }
  }

  async remove(entry: StoreEntry): Promise<void> {
    const path = entry.kind === 'stream' ? this.streamPath(entry.key) : entry.kind === 'file' ? this.filePath(entry.key) : this.recordPath(entry.kind, entry.key);
    await rm(path, { force: true });
  }
}

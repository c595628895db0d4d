// A store in a folder (today OUT/.quiver/cache/):
//   packs/*.qpack           task and sink records, and streams under 1 MiB (pack-file.ts): one
//                           append each, in a pack per writing process
//   streams/ab/KEY.qstream  larger stream entries (stream-file.ts)
//   files/ab/SHA256         kept files: hard links to the outputs, so they cost no space
// Files are written under a temporary name and renamed into place, and pack entries are appended
// whole, so a process killed at any moment leaves a usable store.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { copyFile, link, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { RecordBatch, Schema } from 'apache-arrow';
import { makeFolder } from '../../io/make-folder.ts';
import { sha256OfFile } from '../../io/file-hash.ts';
import type { FileStamp, RecordKind, Store, StoreEntry, StreamWriter } from '../store.ts';
import { decodeStreamBytes, readStreamFile, RecordPacker, StreamFileWriter } from '../stream-file.ts';
import { PackIndex, readPackEntry, type PackKind } from './pack-file.ts';

const fanOut = (key: string) => key.slice(0, 2);

export class FsStore implements Store {
  private readonly packs: PackIndex;
  /** When the packs were last read for other processes' entries. */
  private refreshedAt = -Infinity;

  constructor(readonly location: string) {
    this.packs = new PackIndex(join(location, 'packs'));
  }

  private streamPath(key: string): string {
    return join(this.location, 'streams', fanOut(key), `${key}.qstream`);
  }

  private filePath(sha256: string): string {
    return join(this.location, 'files', fanOut(sha256), sha256);
  }

  /** A packed entry; on a miss, the packs are read again (at most once a second) for what others appended. */
  private packed(kind: PackKind, key: string) {
    const found = this.packs.get(kind, key);
    if (found || performance.now() - this.refreshedAt < 1000) return found;
    this.packs.refresh();
    this.refreshedAt = performance.now();
    return this.packs.get(kind, key);
  }

  async hasStream(key: string): Promise<boolean> {
    return !!this.packed('stream', key) || existsSync(this.streamPath(key));
  }

  writeStream(key: string, schema: Schema): StreamWriter {
    return new FsStreamWriter(key, schema, this.packs, this.streamPath(key));
  }

  readStream(key: string): AsyncGenerator<RecordBatch> {
    const entry = this.packed('stream', key);
    if (!entry) return readStreamFile(this.streamPath(key));
    return (async function* () {
      yield* decodeStreamBytes(readPackEntry(entry), `${entry.pack} (${key})`);
    })();
  }

  async readRecord<T>(kind: RecordKind, key: string): Promise<T | undefined> {
    const entry = this.packed(kind, key);
    try {
      return entry && (JSON.parse(readPackEntry(entry).toString('utf8')) as T);
    } catch {
      return undefined; // its pack was compacted away under us: as good as absent
    }
  }

  async writeRecord(kind: RecordKind, key: string, value: unknown): Promise<void> {
    this.packs.append(kind, key, Buffer.from(JSON.stringify(value)));
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
    this.packs.refresh();
    for (const { kind, key, entry } of [...this.packs.list()]) yield { kind, key, bytes: entry.length };
    for (const [kind, folder] of [['stream', 'streams'], ['file', 'files']] as const) {
      let entries;
      try {
        entries = readdirSync(join(this.location, folder), { recursive: true, withFileTypes: true });
      } catch {
        continue; // nothing stored of this kind
      }
      for (const entry of entries) {
        if (!entry.isFile() || entry.name.endsWith('.tmp')) continue;
        const { size, nlink } = statSync(join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name));
        // Names are KEY.qstream or SHA256: the key is what comes before the first dot.
        // A file still linked from an output folder frees nothing when removed.
        yield { kind, key: entry.name.split('.')[0], bytes: nlink === 1 ? size : 0 };
      }
    }
  }

  async remove(entry: StoreEntry): Promise<void> {
    if (entry.kind !== 'file' && this.packs.get(entry.kind, entry.key)) return this.packs.remove(entry.kind, entry.key);
    await rm(entry.kind === 'stream' ? this.streamPath(entry.key) : this.filePath(entry.key), { force: true });
  }

  /** Rewrites the packs without what was removed from them (after pruning, with no run writing). */
  async compact(): Promise<void> {
    this.packs.compact();
  }
}

/**
 * A stream entry: batches gathered into records (stream-file.ts); one that stays under a record
 * (1 MiB) is appended to the pack at commit, a larger one goes to a file of its own as it grows.
 */
class FsStreamWriter implements StreamWriter {
  private readonly packer: RecordPacker;
  private file?: StreamFileWriter;

  constructor(private readonly key: string, schema: Schema, private readonly packs: PackIndex, private readonly path: string) {
    this.packer = new RecordPacker(schema);
  }

  write(batch: RecordBatch): Promise<void> | undefined {
    const record = this.packer.add(batch);
    if (!record) return undefined;
    this.file ??= new StreamFileWriter(this.path);
    return this.file.write(record);
  }

  async commit(): Promise<void> {
    const last = this.packer.end();
    if (this.file) return this.file.commit(last);
    this.packs.append('stream', this.key, Buffer.concat(last));
  }

  async abort(): Promise<void> {
    await this.file?.abort();
  }
}

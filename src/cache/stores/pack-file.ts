// Packs: append-only files holding a folder store's small entries (task and sink records, small
// streams), so that caching a partition costs one append instead of a file or two of its own
// (each a create, a write, a rename and a folder entry). Every process appends to a pack of its
// own, so writers need no lock; readers index every pack in the folder.
//
// An entry: 'QPK1', kind (u8), key length (u8), body length (u32 LE), crc32 of key and body (u32
// LE), when it was written (f64 LE, ms since the epoch), the key (ASCII), the body. A crash
// mid-append leaves a short or mismatched last entry, which the index stops at: an entry is there
// whole or not at all. A key written again (a sink record after its files changed) is the latest.
import { closeSync, openSync, readdirSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { makeFolder } from '../../io/make-folder.ts';

export type PackKind = 'stream' | 'task' | 'sink';
const kindCodes: Record<PackKind | 'removed', number> = { stream: 1, task: 2, sink: 3, removed: 4 };
const kindOf = ['', 'stream', 'task', 'sink', 'removed'] as const;
const magic = 0x314b5051; // 'QPK1' read as a little-endian u32
const headerBytes = 22;
/** A pack grows to about this size, then its writer starts another. */
const packTargetBytes = 64 << 20;

/** Where an entry's body lies. */
export interface PackEntry {
  pack: string;
  offset: number;
  length: number;
  /** When it was written: of two entries of one key, the later stands. */
  writtenMs: number;
}

const slot = (kind: PackKind, key: string) => `${kind}:${key}`;

/** Every entry of the packs in a folder, kept up to date with the packs as they grow. */
export class PackIndex {
  private readonly entries = new Map<string, PackEntry>();
  /** When each removed entry was removed: an older copy read later (from another pack) stays removed. */
  private readonly removed = new Map<string, number>();
  /** Per pack: how far it has been read. */
  private readonly scanned = new Map<string, number>();
  private writer?: { path: string; fd: number; size: number };

  constructor(readonly folder: string) {}

  get(kind: PackKind, key: string): PackEntry | undefined {
    return this.entries.get(slot(kind, key));
  }

  /** Reads what other processes appended since the last look (new packs, and packs that grew). */
  refresh(): void {
    let names: string[];
    try {
      names = readdirSync(this.folder).filter((n) => n.endsWith('.qpack'));
    } catch {
      return; // no packs yet
    }
    for (const name of names.sort()) {
      const path = join(this.folder, name);
      if (path === this.writer?.path) continue; // ours: indexed as written
      this.scan(path);
    }
  }

  private scan(path: string): void {
    const from = this.scanned.get(path) ?? 0;
    const size = statSync(path, { throwIfNoEntry: false })?.size ?? 0;
    if (size <= from) return;
    const fd = openSync(path, 'r');
    try {
      const bytes = Buffer.allocUnsafe(size - from);
      readSync(fd, bytes, 0, bytes.length, from);
      let at = 0;
      while (at + headerBytes <= bytes.length && bytes.readUInt32LE(at) === magic) {
        const kind = kindOf[bytes[at + 4]];
        const keyLength = bytes[at + 5];
        const bodyLength = bytes.readUInt32LE(at + 6);
        const end = at + headerBytes + keyLength + bodyLength;
        if (!kind || end > bytes.length) break; // cut short by a crash
        if (crc32(bytes.subarray(at + 14, end)) !== bytes.readUInt32LE(at + 10)) break;
        const key = bytes.toString('latin1', at + headerBytes, at + headerBytes + keyLength);
        const body = at + headerBytes + keyLength;
        const writtenMs = bytes.readDoubleLE(at + 14);
        if (kind === 'removed') this.forget(kindOf[bytes[body]] as PackKind, key, writtenMs);
        else this.learn(kind, key, { pack: path, offset: from + body, length: bodyLength, writtenMs });
        at = end;
      }
      // A cut entry is never completed (its writer is gone), so the scan stays at it.
      this.scanned.set(path, from + at);
    } finally {
      closeSync(fd);
    }
  }

  private learn(kind: PackKind, key: string, entry: PackEntry): void {
    const name = slot(kind, key);
    if ((this.removed.get(name) ?? -Infinity) >= entry.writtenMs) return;
    const known = this.entries.get(name);
    if (!known || known.writtenMs <= entry.writtenMs) this.entries.set(name, entry);
  }

  private forget(kind: PackKind, key: string, removedMs: number): void {
    const name = slot(kind, key);
    this.removed.set(name, Math.max(removedMs, this.removed.get(name) ?? -Infinity));
    const known = this.entries.get(name);
    if (known && known.writtenMs <= removedMs) this.entries.delete(name);
  }

  /** Appends an entry to this process's pack; visible here at once, to other processes once they refresh. */
  append(kind: PackKind | 'removed', key: string, body: Uint8Array, writtenMs = Date.now()): PackEntry {
    const writer = this.openWriter();
    const keyBytes = Buffer.from(key, 'latin1');
    if (keyBytes.length > 255) throw new Error(`pack key too long: ${key}`);
    const entry = Buffer.allocUnsafe(headerBytes + keyBytes.length + body.byteLength);
    entry.writeUInt32LE(magic, 0);
    entry[4] = kindCodes[kind];
    entry[5] = keyBytes.length;
    entry.writeUInt32LE(body.byteLength, 6);
    entry.writeDoubleLE(writtenMs, 14);
    keyBytes.copy(entry, headerBytes);
    entry.set(body, headerBytes + keyBytes.length);
    entry.writeUInt32LE(crc32(entry.subarray(14)), 10);
    // One write of the whole entry at the pack's end: a crash leaves it whole or short.
    let written = 0;
    while (written < entry.length) written += writeSync(writer.fd, entry, written, entry.length - written, writer.size + written);
    const at: PackEntry = { pack: writer.path, offset: writer.size + headerBytes + keyBytes.length, length: body.byteLength, writtenMs };
    writer.size += entry.length;
    if (kind === 'removed') this.forget(kindOf[body[0]] as PackKind, key, writtenMs);
    else this.learn(kind, key, at);
    if (writer.size >= packTargetBytes) this.closeWriter();
    return at;
  }

  /** Makes an entry absent: a marker appended (the bytes go when the pack is compacted). */
  remove(kind: PackKind, key: string): void {
    if (this.get(kind, key)) this.append('removed', key, new Uint8Array([kindCodes[kind]]));
  }

  /** Every live entry. */
  *list(): Generator<{ kind: PackKind; key: string; entry: PackEntry }> {
    for (const [name, entry] of this.entries) {
      const colon = name.indexOf(':');
      yield { kind: name.slice(0, colon) as PackKind, key: name.slice(colon + 1), entry };
    }
  }

  /**
   * Rewrites every live entry into a new pack and deletes the old packs, with what was removed and
   * what crashed writers left cut short. Only while no other process writes to the folder.
   */
  compact(): void {
    this.refresh();
    this.closeWriter();
    const old = [...this.scanned.keys()];
    const live = [...this.list()];
    if (old.length === 0) return;
    for (const { kind, key, entry } of live) this.append(kind, key, readPackEntry(entry), entry.writtenMs);
    this.closeWriter();
    for (const path of old) {
      rmSync(path, { force: true });
      this.scanned.delete(path);
    }
    this.removed.clear(); // what they removed is gone with them
  }

  private openWriter(): { path: string; fd: number; size: number } {
    if (!this.writer) {
      makeFolder(this.folder);
      const path = join(this.folder, `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}.qpack`);
      this.writer = { path, fd: openSync(path, 'wx'), size: 0 };
    }
    return this.writer;
  }

  closeWriter(): void {
    if (!this.writer) return;
    closeSync(this.writer.fd);
    this.scanned.set(this.writer.path, this.writer.size);
    this.writer = undefined;
  }
}

/** An entry's body. */
export function readPackEntry({ pack, offset, length }: PackEntry): Buffer {
  const fd = openSync(pack, 'r');
  try {
    const bytes = Buffer.allocUnsafe(length);
    let read = 0;
    while (read < length) {
      const n = readSync(fd, bytes, read, length - read, offset + read);
      if (n === 0) throw new Error(`cache pack ${pack} ends before its entry at byte ${offset}`);
      read += n;
    }
    return bytes;
  } finally {
    closeSync(fd);
  }
}

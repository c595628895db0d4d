// HDF5 files through h5wasm (the HDF5 C library compiled to WebAssembly: no native build, works
// offline, reads deflate/shuffle/fletcher32-filtered datasets as the C library does). A file's
// bytes are copied into the module's in-memory file system under a private name, opened read-only,
// and removed on close: memory is bounded by the file's size plus the datasets read, each checked
// against the task budget and against what the file's bytes could hold before HDF5 allocates it.
// HDF5's own error stack is turned into one Error naming the innermost cause (`truncated file:
// eof = 100, ...`), not printed to stderr.
import h5wasm, { type Dataset, type Group } from 'h5wasm/node';
import { InputError } from '../../src/workflow/errors.ts';
import { checkTaskMemory, DEFLATE_MAX_RATIO } from '../../src/io/limits.ts';

/** The 8 bytes every HDF5 superblock starts with; it sits at byte 0, 512, 1024, 2048, ... */
const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** Where the superblock is (0, 512, 1024, ...), or -1 if `bytes` hold none: not an HDF5 file. */
export function superblockOffset(bytes: Uint8Array): number {
  for (let at = 0; at + 8 <= bytes.length; at = at === 0 ? 512 : at * 2) {
    if (SIGNATURE.every((b, i) => bytes[at + i] === b)) return at;
  }
  return -1;
}

let module: Promise<{ FS: { writeFile(p: string, d: Uint8Array): void; unlink(p: string): void } }> | undefined;
let opened = 0;

/** The h5wasm module of this thread, with HDF5 errors thrown instead of printed. */
function ready() {
  module ??= h5wasm.ready.then((m) => {
    (m as unknown as { activate_throwing_error_handler(): number }).activate_throwing_error_handler();
    return m as never;
  });
  return module;
}

/** HDF5's error stack reduced to its innermost line: the cause (`truncated file: eof = ...`). */
export function hdf5Cause(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const causes = [...text.matchAll(/#\d+: .* in ([A-Za-z0-9_]+\(\)): (.*)/g)];
  if (causes.length === 0) return text.split('\n')[0].slice(0, 300);
  const [, where, why] = causes[causes.length - 1];
  return `${why.trim()} (HDF5 ${where})`;
}

export type AttrValue = number | string | number[] | string[];

/** One attribute's value as plain JSON: scalars unwrapped, 64-bit integers as numbers. */
function plain(value: unknown): AttrValue {
  const one = (v: unknown): number | string => (typeof v === 'bigint' ? Number(v) : typeof v === 'number' || typeof v === 'string' ? v : String(v));
  if (ArrayBuffer.isView(value) || Array.isArray(value)) {
    const list = Array.from(value as ArrayLike<unknown>, one);
    return list.length === 1 ? list[0] : (list as number[] | string[]);
  }
  return one(value);
}

/** An open HDF5 file; `name` is what errors say (the path relative to the workflow). */
export class Hdf5File {
  private constructor(readonly name: string, readonly bytes: number, private readonly file: InstanceType<typeof h5wasm.File>,
    private readonly memPath: string, private readonly fs: { unlink(p: string): void }) {}

  /** Opens `bytes` (a whole file) read-only; an InputError naming `name` if it is not HDF5 or HDF5 cannot open it. */
  static async open(bytes: Uint8Array, name: string): Promise<Hdf5File> {
    if (superblockOffset(bytes) < 0) throw new InputError(name, `is not an HDF5 file (no HDF5 signature at byte 0, 512, 1024, ...; ${bytes.length} bytes)`);
    checkTaskMemory(name, 'the HDF5 file held in memory', bytes.length * 2);
    const { FS } = await ready();
    const memPath = `/quiver-${process.pid}-${++opened}.h5`;
    FS.writeFile(memPath, bytes);
    try {
      return new Hdf5File(name, bytes.length, new h5wasm.File(memPath, 'r'), memPath, FS);
    } catch (error) {
      FS.unlink(memPath);
      throw new InputError(name, `HDF5 cannot open it: ${hdf5Cause(error)}`);
    }
  }

  close(): void {
    try {
      this.file.close();
    } catch { /* already failed; the memory file goes below */ }
    this.fs.unlink(this.memPath);
  }

  /** The group at `path`, or null if there is none (or it is not a group). */
  group(path: string): Group | null {
    const item = this.wrap(`${path}`, () => this.file.get(path));
    return item && (item as { type?: string }).type === 'Group' ? item as Group : null;
  }

  /** The dataset at `path`, or null. */
  dataset(path: string): Dataset | null {
    const item = this.wrap(path, () => this.file.get(path));
    return item && (item as { type?: string }).type === 'Dataset' ? item as Dataset : null;
  }

  /** Names of the members of group `path` (the root is ''). */
  keys(path: string): string[] {
    const g = path === '' ? this.file : this.group(path);
    return g ? this.wrap(path || '/', () => g.keys()) : [];
  }

  /** The attributes of the group or dataset at `path`, as plain values ({} if there is none). */
  attrs(path: string): Record<string, AttrValue> {
    const item = path === '' ? this.file : this.wrap(path, () => this.file.get(path));
    if (!item || !('attrs' in item)) return {};
    return this.wrap(`${path}'s attributes`, () => Object.fromEntries(Object.entries(item.attrs).map(([k, a]) => [k, plain(a.value)])));
  }

  /** The shape and element size of dataset `path` as declared, before any of its values are read. */
  shapeOf(d: Dataset, path: string): { shape: number[]; elementBytes: number; compressed: boolean; numeric: boolean } {
    return this.wrap(path, () => {
      const m = d.metadata;
      // h5wasm type codes: 0 integer, 1 float.
      return { shape: m.shape ?? [], elementBytes: m.size, compressed: d.filters.length > 0, numeric: (m.type === 0 || m.type === 1) && !m.vlen };
    });
  }

  /**
   * Why dataset `path` cannot be read whole, or null: the size it declares must fit what the
   * file's bytes could hold (stored as is, or deflated at best 1032:1) and the task's budget (with
   * a float32 copy of each value), so a header that lies is an error, not an allocation.
   */
  sizeProblem(d: Dataset, path: string): string | null {
    const { shape, elementBytes, compressed } = this.shapeOf(d, path);
    const count = shape.reduce((a, b) => a * b, 1);
    const declared = count * elementBytes;
    const most = compressed ? this.bytes * DEFLATE_MAX_RATIO : this.bytes;
    if (declared > most) return `${path} declares ${shape.join(' × ')} values (${declared} bytes), more than a ${this.bytes}-byte file can hold`;
    try {
      checkTaskMemory(this.name, `${path} (${shape.join(' × ')}) with its float32 values`, declared + count * 4);
    } catch (error) {
      return (error as InputError).cause;
    }
    return null;
  }

  /**
   * The values of dataset `path` (a typed array, row-major). The size it declares is checked first:
   * it must fit the task's budget, and what the file's bytes could hold (stored as is, or
   * deflated at best 1032:1), so a header that lies is an error, not an allocation.
   */
  values(d: Dataset, path: string): ArrayLike<number> & { length: number } {
    const { shape, elementBytes, numeric } = this.shapeOf(d, path);
    if (!numeric) throw new InputError(this.name, `${path} is not a numeric dataset`);
    const declared = shape.reduce((a, b) => a * b, 1) * elementBytes;
    const problem = this.sizeProblem(d, path);
    if (problem) throw new InputError(this.name, problem);
    const values = this.wrap(path, () => d.value);
    if (!ArrayBuffer.isView(values) || (values as unknown as { length: number }).length !== declared / elementBytes) {
      throw new InputError(this.name, `${path} did not read as ${shape.join(' × ')} numbers`);
    }
    if (values instanceof BigInt64Array || values instanceof BigUint64Array) return Array.from(values, Number);
    return values as unknown as ArrayLike<number>;
  }

  private wrap<T>(what: string, read: () => T): T {
    try {
      return read();
    } catch (error) {
      if (error instanceof InputError) throw error;
      throw new InputError(this.name, `HDF5 cannot read ${what}: ${hdf5Cause(error)}`);
    }
  }
}

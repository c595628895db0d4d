// Stage code shipped to workers (issue 17): the source files of the workflow folder packed into
// one blob of the shared store, named by its sha256, so that a worker needs no view of the folder.
// Only code moves: input files are still read by path, and the spec's baseDir still says where
// relative data paths resolve. The coordinator packs (makeBundle); a worker fetches, checks and
// unpacks each bundle once into a local cache (openBundle), and its threads import from there,
// through workers/bundle-imports.mjs for imports that leave the folder (quiver itself, packages).
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Blobs } from '../../cache/blobs.ts';
import { isInside } from '../../workflow/paths.ts';
import { StageCatalog } from '../../workflow/catalog.ts';
import type { SegmentSpec } from '../task.ts';

/** A bundle a worker will not use: damaged in the store, or holding a path that leaves its folder. */
export class BundleRefused extends Error {}

// Bounds on what is packed: a workflow folder that holds more is a data folder, not code.
export const maxBundleBytes = 16 * 1024 * 1024;
export const maxBundleFiles = 2000;
/** Files packed besides the stage files themselves: code, and the JSON it may read or import. */
const sourceExtensions = new Set(['.ts', '.mts', '.cts', '.tsx', '.js', '.mjs', '.cjs', '.jsx', '.json']);
const magic = Buffer.from('QVBUNDL1');

/** The coordinator's quiver: imports of it from a stage file become the worker's own quiver. */
const quiverRoot = fileURLToPath(new URL('../../../', import.meta.url)).replace(/[\\/]$/, '');

interface Header {
  /** Where the packed folder and quiver were on the coordinator, to map imports that leave the folder. */
  root: string;
  quiver: string;
  /** The `type` of the package.json nearest the folder (in it or above), which says how its .js and .ts files load. */
  type: 'module' | 'commonjs';
  /** `/`-separated paths under root, sorted, with their sizes in bytes; the bytes follow in this order. */
  files: [string, number][];
}

/** The stage files a segment imports (its file `use`s, and its catalog when that lives in the workflow folder), absolute. */
export function stageFilesOf(spec: SegmentSpec): string[] {
  const files = [spec.source, ...spec.maps].flatMap((ref) =>
    ref && StageCatalog.isFileReference(ref.use) ? [StageCatalog.stageFile(ref.use, spec.baseDir)] : []);
  const catalog = spec.catalog.module.startsWith('file:') ? fileURLToPath(spec.catalog.module) : undefined;
  if (catalog && isInside(catalog, spec.baseDir)) files.push(catalog);
  return [...new Set(files)].sort();
}

/**
 * The bundle of the segment's stage code, or undefined when it has none (only built-in stages):
 * every source file under the folder holding the workflow folder and its stage files, except
 * node_modules and dot-folders (.quiver, .git), packed with sorted paths and nothing else (no
 * times, no modes), so the same folder gives the same bytes and the store keeps them once.
 */
export async function makeBundle(spec: SegmentSpec): Promise<{ bytes: Uint8Array; dir: string } | undefined> {
  const stageFiles = stageFilesOf(spec);
  if (stageFiles.length === 0) return undefined;
  const root = [spec.baseDir, ...stageFiles.map(dirname)].reduce(commonFolder);
  const paths = new Set(await sourceFiles(root));
  for (const file of stageFiles) {
    if (!existsSync(file)) throw new Error(`stage file ${file} does not exist`);
    paths.add(file);
  }
  if (paths.size > maxBundleFiles) throw new Error(`cannot ship the stage files to the workers: ${root} holds more than ${maxBundleFiles} source files; keep a workflow and its stage files in a folder of their own`);
  const files: [string, Uint8Array][] = [];
  let total = 0;
  for (const path of [...paths].map((p) => relative(root, p).split(sep).join('/')).sort()) {
    const bytes = await readFile(join(root, path));
    total += bytes.byteLength;
    if (total > maxBundleBytes) throw new Error(`cannot ship the stage files to the workers: the source files under ${root} come to more than ${maxBundleBytes / 2 ** 20} MiB (a bundle's most); move large .json or .js data out of the workflow folder`);
    files.push([path, bytes]);
  }
  return { bytes: packBundle({ root, quiver: quiverRoot, type: packageType(root), files: files.map(([p, b]) => [p, b.byteLength]) }, files.map(([, b]) => b)), dir: relative(root, spec.baseDir).split(sep).join('/') };
}

function packageType(folder: string): Header['type'] {
  for (let at = folder; ; at = dirname(at)) {
    const file = join(at, 'package.json');
    if (existsSync(file)) {
      try {
        return (JSON.parse(readFileSync(file, 'utf8')) as { type?: string }).type === 'module' ? 'module' : 'commonjs';
      } catch {
        return 'commonjs'; // as Node takes a package.json it cannot read
      }
    }
    if (dirname(at) === at) return 'commonjs';
  }
}

function commonFolder(a: string, b: string): string {
  while (!isInside(b, a)) a = dirname(a);
  return a;
}

/**
 * Source files under `folder`, absolute; symbolic links to files are followed, to folders not (no
 * cycles). Quiver itself is left out: a worker has its own (workers/bundle-imports.mjs).
 */
async function sourceFiles(folder: string, found: string[] = []): Promise<string[]> {
  const entries: Dirent[] = (await readdir(folder, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const entry of entries) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && !entry.name.startsWith('.') && path !== quiverRoot) await sourceFiles(path, found);
    } else if (sourceExtensions.has(extname(entry.name)) && (entry.isFile() || (entry.isSymbolicLink() && statSync(path, { throwIfNoEntry: false })?.isFile()))) {
      found.push(path);
      if (found.length > maxBundleFiles) break; // the caller says why
    }
  }
  return found;
}

/** Layout: magic, the header's byte length (uint32 LE), the header as JSON, then each file's bytes. */
export function packBundle(header: Header, contents: Uint8Array[]): Uint8Array {
  const text = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(text.byteLength);
  return new Uint8Array(Buffer.concat([magic, length, text, ...contents]));
}

/** The header and files of a bundle; refuses anything that is not one, or a path that could land outside its folder. */
export function unpackBundle(bytes: Uint8Array, name: string): { header: Header; files: [string, Uint8Array][] } {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const refuse = (why: string) => new BundleRefused(`stage bundle ${name} ${why}`);
  if (buffer.byteLength < 12 || !buffer.subarray(0, 8).equals(magic)) throw refuse('is not a stage bundle');
  const length = buffer.readUInt32LE(8);
  let header: Header;
  try {
    header = JSON.parse(buffer.subarray(12, 12 + length).toString()) as Header;
  } catch {
    throw refuse('has an unreadable header');
  }
  let at = 12 + length;
  const seen = new Set<string>();
  const files = header.files.map(([path, size]): [string, Uint8Array] => {
    // Plain relative paths only: no absolute path, no `..` or `.` step, no backslash, each once.
    const steps = path.split('/');
    if (path.includes('\\') || path.includes('\0') || steps.some((s) => s === '' || s === '.' || s === '..') || seen.has(path)) {
      throw refuse(`holds the path '${path}', which could land outside its folder: refused`);
    }
    seen.add(path);
    if (!Number.isInteger(size) || size < 0 || at + size > buffer.byteLength) throw refuse('is truncated');
    const file = bytes.subarray(at, at + size);
    at += size;
    return [path, file];
  });
  if (at !== buffer.byteLength) throw refuse('has bytes after its last file');
  return { header, files };
}

/**
 * Where a worker keeps unpacked bundles, made: $XDG_CACHE_HOME/quiver/bundles, else
 * ~/.cache/quiver/bundles, else (no home, or one it cannot write) the temporary folder's. Its links
 * are resolved: module URLs are real paths, which the import hook compares with it.
 */
export function bundleCache(env: NodeJS.ProcessEnv = process.env): string {
  const home = env.XDG_CACHE_HOME || (homedir() ? join(homedir(), '.cache') : '');
  const bases = home ? [home, tmpdir()] : [tmpdir()];
  for (const [i, base] of bases.entries()) {
    const cache = join(base, 'quiver', 'bundles');
    try {
      mkdirSync(cache, { recursive: true });
      return realpathSync(cache);
    } catch (error) {
      if (i === bases.length - 1) throw error;
    }
  }
  return tmpdir(); // not reached: the last base returns or throws
}

/** Bundles this process has opened, by cache folder and sha256: each is fetched and unpacked once. */
const opened = new Map<string, Promise<string>>();

/**
 * The folder holding bundle `sha256`'s files, fetched from `blobs` and unpacked under `cache`
 * unless an earlier worker did. Its bytes must hash to its name: a bundle changed in the store is
 * refused (a BundleRefused), never run.
 */
export function openBundle(sha256: string, blobs: Blobs, cache: string): Promise<string> {
  const key = `${cache}\0${sha256}`;
  let pending = opened.get(key);
  if (!pending) {
    pending = unpackInto(sha256, blobs, cache);
    opened.set(key, pending);
    pending.catch(() => opened.delete(key));
  }
  return pending;
}

async function unpackInto(sha256: string, blobs: Blobs, cache: string): Promise<string> {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new BundleRefused(`stage bundle '${sha256}' is not a sha256`);
  const folder = join(cache, sha256);
  // Only a whole, checked bundle is ever renamed to its name.
  if (existsSync(folder)) return join(folder, 'files');
  const bytes = await blobs.get(sha256);
  if (!bytes) throw new Error(`stage bundle ${sha256} is not in ${blobs.location}: does this worker use the coordinator's --store?`);
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== sha256) throw new BundleRefused(`stage bundle ${sha256} in ${blobs.location} is damaged: its bytes hash to ${actual}: refused`);
  const { header, files } = unpackBundle(bytes, sha256);
  // Unpacked beside its final place, then renamed: two threads or processes unpacking the same
  // bundle each write their own folder, and the first rename wins.
  const temp = `${folder}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    for (const [path, contents] of files) {
      const target = join(temp, 'files', ...path.split('/'));
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, contents, { flag: 'wx' }); // a new file in a new folder: no link is followed
    }
    await mkdir(join(temp, 'files'), { recursive: true });
    await writeFile(join(temp, 'origin.json'), JSON.stringify({ root: header.root, quiver: header.quiver }));
    // Stage files load as they did on the coordinator (ES modules in a `"type": "module"` package).
    await writeFile(join(temp, 'package.json'), JSON.stringify({ type: header.type === 'module' ? 'module' : 'commonjs' }));
    await rename(temp, folder).catch((error: NodeJS.ErrnoException) => {
      if (!existsSync(folder)) throw error; // not beaten to it: a real failure
    });
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
  return join(folder, 'files');
}

/** The segment as a worker runs it: its stage files (and a workflow-local catalog) from the unpacked bundle; data paths unchanged. */
export function fromBundle(spec: SegmentSpec, files: string): SegmentSpec {
  const bundle = spec.bundle!;
  const codeDir = resolve(files, ...bundle.dir.split('/').filter(Boolean));
  const catalogFile = spec.catalog.module.startsWith('file:') ? fileURLToPath(spec.catalog.module) : undefined;
  const catalog = catalogFile && isInside(catalogFile, spec.baseDir)
    ? { ...spec.catalog, module: pathToFileURL(join(codeDir, relative(spec.baseDir, catalogFile))).href }
    : spec.catalog;
  // A key of its own: worker threads keep built stages by key, and another bundle is other code.
  return { ...spec, key: `${spec.key} bundle ${bundle.sha256}`, codeDir, catalog };
}

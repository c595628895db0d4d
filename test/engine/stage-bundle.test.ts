// Stage bundles (issue 17): the source files of a workflow folder packed the same way every time,
// unpacked by a worker once, and refused when damaged or when a path could leave their folder.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, realpathSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, test } from 'vitest';
import type { Blobs } from '../../src/cache/blobs.ts';
import { BundleRefused, bundleCache, fromBundle, makeBundle, maxBundleBytes, openBundle, packBundle, unpackBundle } from '../../src/engine/executors/stage-bundle.ts';
import type { SegmentSpec } from '../../src/engine/task.ts';
import { builtinCatalog } from '../../src/stages/index.ts';
import { scratchDir } from '../helpers.ts';

const dir = scratchDir('quiver-bundle-');
const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** A segment of the workflow in `baseDir` whose map is `use`. */
const segment = (baseDir: string, use: string, catalog = builtinCatalog.ref!): SegmentSpec => ({
  key: 'seg', baseDir, catalog, inputSchema: new Uint8Array(), exits: [0],
  maps: [{ id: 'm', use, version: '1', params: {}, parent: -1 }],
});

/** Blobs in memory, as a store would keep them (get does not check what it returns). */
function memoryBlobs(): Blobs & { kept: Map<string, Uint8Array> } {
  const kept = new Map<string, Uint8Array>();
  return {
    kept, location: 'memory',
    put: async (b) => (kept.set(sha(b), b), sha(b)),
    get: async (s) => kept.get(s),
    list: async function* () {},
    remove: async () => undefined,
  };
}

function workflowFolder(name: string): string {
  const wf = join(dir, name);
  for (const folder of ['lib', 'node_modules/pkg', '.quiver/cache', 'out']) mkdirSync(join(wf, folder), { recursive: true });
  writeFileSync(join(wf, 'wf.yaml'), 'name: wf\n');
  writeFileSync(join(wf, 'stages.ts'), "export { helper } from './lib/helper.ts';\n");
  writeFileSync(join(wf, 'lib', 'helper.ts'), 'export const helper = 1;\n');
  writeFileSync(join(wf, 'lib', 'table.json'), '{"a": 1}\n');
  writeFileSync(join(wf, 'data.csv'), 'a\n1\n');
  writeFileSync(join(wf, 'node_modules', 'pkg', 'index.js'), 'export default 1;\n');
  writeFileSync(join(wf, '.quiver', 'cache', 'x.json'), '{}');
  return wf;
}

describe('packing', () => {
  test('the source files of the workflow folder, sorted, without node_modules, dot-folders or data; the same bytes every time', async () => {
    const wf = workflowFolder('packed');
    const first = (await makeBundle(segment(wf, './stages.ts#helper')))!;
    expect(first.dir).toBe('');
    const { header, files } = unpackBundle(first.bytes, 'test');
    expect(files.map(([path]) => path)).toEqual(['lib/helper.ts', 'lib/table.json', 'stages.ts']);
    expect(header.root).toBe(wf);
    // Times are not packed: touched files give the same bundle.
    utimesSync(join(wf, 'stages.ts'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    expect(sha((await makeBundle(segment(wf, './stages.ts#helper')))!.bytes)).toBe(sha(first.bytes));
    // Changed code is another bundle.
    writeFileSync(join(wf, 'lib', 'helper.ts'), 'export const helper = 2;\n');
    expect(sha((await makeBundle(segment(wf, './stages.ts#helper')))!.bytes)).not.toBe(sha(first.bytes));
  });

  test('no bundle for built-in stages only; a stage file outside the folder widens it to their common folder', async () => {
    const wf = workflowFolder('widened');
    expect(await makeBundle(segment(wf, 'table.derive'))).toBeUndefined();
    mkdirSync(join(dir, 'widened-lib'));
    writeFileSync(join(dir, 'widened-lib', 'shared.ts'), 'export const x = 1;\n');
    const sub = join(wf, 'sub');
    mkdirSync(sub);
    const made = (await makeBundle(segment(sub, '../../widened-lib/shared.ts#x')))!;
    expect(made.dir).toBe('widened/sub');
    expect(unpackBundle(made.bytes, 'test').files.map(([p]) => p)).toContain('widened-lib/shared.ts');
  });

  test('a workflow-local catalog is shipped too', async () => {
    const wf = workflowFolder('catalog');
    const catalog = { module: pathToFileURL(join(wf, 'lib', 'helper.ts')).href, export: 'catalog' };
    expect(await makeBundle(segment(wf, 'table.derive', catalog))).toBeDefined();
    const spec = fromBundle({ ...segment(wf, 'table.derive', catalog), bundle: { sha256: 'f'.repeat(64), dir: '' } }, '/cache/f/files');
    expect(spec).toMatchObject({ codeDir: '/cache/f/files', baseDir: wf, catalog: { module: 'file:///cache/f/files/lib/helper.ts' } });
    expect(spec.key).not.toBe('seg'); // threads keep built stages by key
  });

  test('a folder holding more than a bundle may: one sentence naming it and the limit', async () => {
    const wf = workflowFolder('big');
    writeFileSync(join(wf, 'lib', 'huge.json'), Buffer.alloc(maxBundleBytes + 1, 0x20));
    await expect(makeBundle(segment(wf, './stages.ts#helper'))).rejects.toThrow(`the source files under ${wf} come to more than 16 MiB`);
  });
});

describe('unpacking', () => {
  const header = { root: '/wf', quiver: '/quiver', type: 'module' as const };
  const bundle = (files: [string, string][]) =>
    packBundle({ ...header, files: files.map(([p, c]) => [p, Buffer.byteLength(c)]) }, files.map(([, c]) => Buffer.from(c)));

  test('a path that could land outside the folder is refused, naming the bundle', () => {
    for (const path of ['../evil.ts', 'lib/../../evil.ts', '/etc/evil.ts', 'lib//x.ts', './x.ts', 'lib\\..\\x.ts']) {
      expect(() => unpackBundle(bundle([[path, 'x']]), 'abc123'), path).toThrow(new BundleRefused(`stage bundle abc123 holds the path '${path}', which could land outside its folder: refused`));
    }
    expect(() => unpackBundle(bundle([['a.ts', 'x'], ['a.ts', 'y']]), 'abc123')).toThrow(/holds the path 'a.ts'/);
    expect(() => unpackBundle(bundle([['a.ts', 'x']]).subarray(0, -1), 'abc123')).toThrow('stage bundle abc123 is truncated');
    expect(() => unpackBundle(Buffer.from('not a bundle at all'), 'abc123')).toThrow('stage bundle abc123 is not a stage bundle');
  });

  test('a worker unpacks a bundle once, into CACHE/SHA/files, with the package type of the coordinator', async () => {
    const blobs = memoryBlobs();
    const name = await blobs.put(bundle([['stages.ts', 'export const a = 1;\n'], ['lib/b.ts', 'export const b = 2;\n']]));
    const cache = join(dir, 'cache-once');
    const [files, again] = await Promise.all([openBundle(name, blobs, cache), openBundle(name, blobs, cache)]);
    expect(again).toBe(files);
    expect(files).toBe(join(cache, name, 'files'));
    expect(readFileSync(join(files, 'lib', 'b.ts'), 'utf8')).toBe('export const b = 2;\n');
    expect(JSON.parse(readFileSync(join(cache, name, 'package.json'), 'utf8'))).toEqual({ type: 'module' });
    expect(JSON.parse(readFileSync(join(cache, name, 'origin.json'), 'utf8'))).toEqual({ root: '/wf', quiver: '/quiver' });
  });

  test('a bundle whose bytes were changed in the store is refused, naming it; nothing is unpacked', async () => {
    const blobs = memoryBlobs();
    const bytes = bundle([['stages.ts', 'export const a = 1;\n']]);
    const name = await blobs.put(bytes);
    const changed = bytes.slice();
    changed[changed.length - 2] ^= 1;
    blobs.kept.set(name, changed);
    const cache = join(dir, 'cache-tampered');
    await expect(openBundle(name, blobs, cache)).rejects.toThrow(new BundleRefused(`stage bundle ${name} in memory is damaged: its bytes hash to ${sha(changed)}: refused`));
    expect(() => readFileSync(join(cache, name, 'files', 'stages.ts'))).toThrow(/ENOENT/);
  });
});

test('workers unpack into $XDG_CACHE_HOME/quiver/bundles, or the temporary folder when that cannot be made', () => {
  expect(bundleCache({ XDG_CACHE_HOME: join(dir, 'xdg') })).toBe(join(dir, 'xdg', 'quiver', 'bundles'));
  writeFileSync(join(dir, 'not-a-folder'), '');
  expect(bundleCache({ XDG_CACHE_HOME: join(dir, 'not-a-folder') })).toBe(join(realpathSync(tmpdir()), 'quiver', 'bundles'));
});

// Result previews (src/observe/results): numbers against trusted references (astropy's zscale, PNG
// decoded back with node:zlib, CT windows), and the report of a real run of a bundled workflow.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, inflateSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import type { Manifest } from '../../src/provenance/manifest.ts';
import { renderReport } from '../../src/observe/report.ts';
import { lineChart } from '../../src/observe/results/chart.ts';
import { imagePreviewHtml } from '../../src/observe/results/image.ts';
import { encodePng } from '../../src/observe/results/png.ts';
import { previewsOfRun, tablePage } from '../../src/observe/results/index.ts';
import { openOutput } from '../../src/observe/results/read-output.ts';
import { divergingColour, huGrey, stretchImage } from '../../src/observe/results/stretch.ts';
import { batchWithRow, tensorAt } from '../../src/observe/results/tensor.ts';
import { zscale } from '../../src/observe/results/zscale.ts';
import { resultShowSchema, resultSpecSchema } from '../../src/workflow/results.ts';
import { repoRoot, scratchDir } from '../helpers.ts';

const scratch = scratchDir();
const ukidss = join(repoRoot, 'data/astronomy/astroquery_ukidss_wfcam_K_cutout.fits');

/** A PNG's size and pixels, decoded with node:zlib (filter 0 rows only, as encodePng writes them). */
function decodePng(png: Buffer): { width: number; height: number; channels: number; pixels: Uint8Array } {
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let at = 8;
  let width = 0, height = 0, channels = 0;
  const idat: Buffer[] = [];
  while (at < png.length) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    expect(png.readUInt32BE(at + 8 + length)).toBe(crc32(png.subarray(at + 4, at + 8 + length)));
    if (type === 'IHDR') {
      [width, height] = [data.readUInt32BE(0), data.readUInt32BE(4)];
      expect(data[8]).toBe(8);
      channels = data[9] === 6 ? 4 : data[9] === 2 ? 3 : 0;
    } else if (type === 'IDAT') idat.push(data);
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  expect(raw.length).toBe((stride + 1) * height);
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    expect(raw[y * (stride + 1)]).toBe(0);
    pixels.set(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)), y * stride);
  }
  return { width, height, channels, pixels };
}

const pngsOf = (html: string) => [...html.matchAll(/data:image\/png;base64,([A-Za-z0-9+/=]+)/g)].map((m) => Buffer.from(m[1], 'base64'));

describe('zscale', () => {
  test('equals astropy ZScaleInterval on the UKIDSS K cutout', async () => {
    const open = await openOutput(ukidss);
    const { batch, index } = await batchWithRow(open, 0);
    const { values, shape } = tensorAt(batch, open.schema, 'data', index);
    expect(shape).toEqual([300, 300]);
    // astropy 5.2.1 (python3-astropy), ZScaleInterval().get_limits(fits.open(file)[1].data):
    let expected: [number, number] = [7316.3637, 8592.804539047476];
    const py = spawnSync('/usr/bin/python3', ['-c', `from astropy.io import fits; from astropy.visualization import ZScaleInterval; print(*ZScaleInterval().get_limits(fits.open(${JSON.stringify(ukidss)})[1].data))`], { encoding: 'utf8' });
    if (py.status === 0) expected = py.stdout.trim().split(/\s+/).map(Number) as [number, number];
    const [lo, hi] = zscale(values);
    expect(lo).toBeCloseTo(expected[0], 6);
    expect(hi).toBeCloseTo(expected[1], 6);
  });

  test('a constant or empty image gives its value or NaN, not an exception', () => {
    expect(zscale(new Float32Array(100).fill(3))).toEqual([3, 3]);
    expect(zscale(new Float32Array([NaN, NaN]))).toEqual([NaN, NaN]);
  });
});

describe('PNG', () => {
  test('decodes back to the same size and pixels', () => {
    const [w, h] = [7, 3];
    const pixels = Uint8Array.from({ length: w * h * 4 }, (_, i) => (i * 37) % 256);
    const back = decodePng(encodePng(w, h, pixels, 4));
    expect([back.width, back.height, back.channels]).toEqual([w, h, 4]);
    expect([...back.pixels]).toEqual([...pixels]);
    const rgb = decodePng(encodePng(2, 2, Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9]), 3));
    expect([...rgb.pixels]).toEqual([255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9]);
  });
});

describe('stretches', () => {
  test('HU windows: lung [-1350, 150] and soft tissue [-160, 240]', () => {
    expect(huGrey(-2000, [-1350, 150])).toBe(0);
    expect(huGrey(-1350, [-1350, 150])).toBe(0);
    expect(huGrey(-600, [-1350, 150])).toBe(128); // the level: (750 / 1500) × 255 = 127.5
    expect(huGrey(150, [-1350, 150])).toBe(255);
    expect(huGrey(40, [-160, 240])).toBe(128);
    expect(huGrey(0, [-160, 240])).toBe(102);
    const { rgba } = stretchImage(Float32Array.from([-1000, 0, 40, 500, NaN]), 'hu-window', 'soft-tissue');
    expect([0, 1, 2, 3, 4].map((i) => rgba[i * 4])).toEqual([0, 102, 128, 255, 0]);
    expect(rgba[4 * 4 + 3]).toBe(0); // NaN transparent
  });

  test('diverging is white at 0 and symmetric: blue below, red above', () => {
    expect(divergingColour(0)).toEqual([247, 247, 247]);
    expect(divergingColour(-1)).toEqual([33, 102, 172]);
    expect(divergingColour(1)).toEqual([178, 24, 43]);
    const { rgba, limits } = stretchImage(Float32Array.from([-50, 0, 50, 100, -100]), 'diverging', [-100, 100]);
    expect(limits).toEqual([-100, 100]);
    expect([...rgba.subarray(4, 7)]).toEqual([247, 247, 247]);
    expect(rgba[0 * 4 + 2]).toBeGreaterThan(rgba[0 * 4]); // negative: more blue than red
    expect(rgba[2 * 4]).toBeGreaterThan(rgba[2 * 4 + 2]);
  });
});

describe('image previews', () => {
  test('a FITS image: a PNG under zscale + asinh, an RA/Dec grid from its WCS', async () => {
    const html = await imagePreviewHtml(ukidss, resultShowSchema.parse({ kind: 'image' }) as never, (x) => x);
    const [png] = pngsOf(html);
    const { width, height } = decodePng(png);
    expect([width, height]).toEqual([300, 300]);
    expect(html).toMatch(/zscale 7316(\.\d+)? … 8593/);
    expect((html.match(/<path class="wcs"/g) ?? []).length).toBeGreaterThanOrEqual(4);
    expect(html).toContain('RA ');
  });

  test('images larger than 512 px on a side are shrunk', async () => {
    const dir = join(scratch, 'big');
    // An Arrow IPC file of one 1200 × 300 tensor row, written through the arrow sink's own writer.
    const { tableToIPC, makeData, FixedSizeList, Field, Float32, Schema, RecordBatch, Table, Struct } = await import('apache-arrow');
    const size = 1200 * 300;
    const values = Float32Array.from({ length: size }, (_, i) => i % 1200);
    const type = new FixedSizeList(size, new Field('value', new Float32(), false));
    const field = new Field('data', type, false, new Map([['ARROW:extension:name', 'arrow.fixed_shape_tensor'], ['ARROW:extension:metadata', '{"shape":[300,1200]}']]));
    const child = makeData({ type: new Float32(), length: size, data: values });
    const data = makeData({ type: new Struct([field]), length: 1, nullCount: 0, children: [makeData({ type, length: 1, nullCount: 0, child })] });
    const file = `${dir}.arrow`;
    writeFileSync(file, tableToIPC(new Table(new RecordBatch(new Schema([field]), data)), 'file'));
    const html = await imagePreviewHtml(file, resultShowSchema.parse({ kind: 'image', stretch: 'linear' }) as never, (x) => x);
    const { width, height, pixels } = decodePng(pngsOf(html)[0]);
    expect([width, height]).toEqual([400, 100]);
    expect(pixels[0]).toBe(0); // the left edge black, the right edge white (linear 0 … 1199)
    expect(pixels[(width - 1) * 4]).toBeGreaterThan(250);
  });
});

test('a hand-written chart: a path per series, marks, a log axis in decades', () => {
  const x = Float64Array.from({ length: 1000 }, (_, i) => Date.UTC(2011, 5, 7) + i * 60_000);
  const y = Float64Array.from({ length: 1000 }, (_, i) => 1e-7 * 10 ** (i / 500));
  const svg = lineChart([{ name: 'long', x, y }], { time: true, logY: true, marks: [{ x: x[100], to: x[200], label: 'M2.5' }] });
  expect(svg.match(/<path class="line"/g)).toHaveLength(1);
  expect(svg).toContain('M2.5');
  expect(svg).toContain('class="span"');
  expect(svg).toContain('>1e-7<');
  expect(svg).toContain('>1e-5<');
});

describe('the report of a real run', () => {
  test('goes-flares: a Results section with the light curve (SVG), flares marked, and the flare table', () => {
    const out = join(scratch, 'goes');
    const cli = join(repoRoot, 'src/cli/quiver.mjs');
    const run = spawnSync(process.execPath, [cli, 'run', 'workflows/astronomy/goes-flares.yaml', '--out', out, '--allow-path', 'data', '--workers', '1'], { cwd: repoRoot, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const report = spawnSync(process.execPath, [cli, 'report', 'latest', '--out', out], { cwd: repoRoot, encoding: 'utf8' });
    expect(report.status, report.stderr).toBe(0);
    const runDir = join(out, '.quiver', 'runs', readdirSync(join(out, '.quiver', 'runs'))[0]);
    const html = readFileSync(join(runDir, 'report.html'), 'utf8');
    const results = /<section class="results">([\s\S]*?)<\/section>/.exec(html)?.[1] ?? '';
    expect(results).toContain('<h2>Results</h2>');
    expect(html.indexOf('<h2>Results</h2>')).toBeLessThan(html.indexOf('<h2>Stage graph</h2>'));
    expect(results).toMatch(/<svg class="chart"[\s\S]*<path class="line"/);
    expect(results).toContain('class="mark-label"');
    expect(results).toContain('M2.5');
    expect(results).toContain('2011-06-07T06:16:00.000Z'); // the flare table's start
    expect(results).not.toContain('Cannot preview');
    expect(html).not.toMatch(/https?:\/\/|<script/i);
    expect(html).toContain(`img-src data:`);
  });
});

describe('bad outputs', () => {
  const manifestWith = (outputs: Manifest['outputs'], results: unknown[]): Manifest => ({
    manifestVersion: 1, runId: 'r1', status: 'ok', startedAt: '2026-01-01T00:00:00Z', endedAt: '2026-01-01T00:00:01Z',
    workflow: { name: 'bad', file: 'bad.yaml', baseDir: scratch, sha256: '', text: JSON.stringify({ name: 'bad', stages: [], results }) },
    params: {}, seeds: {}, stages: [], inputs: [], tasks: [], cache: true, allowPaths: [], outputs,
    executor: { kind: 'local', workers: 1 }, runtime: { quiver: '0', node: '20', platform: 'linux', arch: 'x64', osRelease: '', cpu: '', cpus: 1 }, packages: {},
  });

  test('missing, corrupt and wrongly described outputs give previews saying so, and the report renders', async () => {
    const out = join(scratch, 'bad');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'corrupt.parquet'), 'PAR1 this is not parquet');
    writeFileSync(join(out, 'ok.csv'), 'a,b\n1,x\n2,y\n3,z\n');
    const manifest = manifestWith([
      { path: 'corrupt.parquet', sha256: '', bytes: 24 },
      { path: 'ok.csv', sha256: '', bytes: 16 },
      { path: 'notes.txt', sha256: '', bytes: 5 },
    ], [
      { output: 'gone.parquet', title: 'Gone', show: { kind: 'table' } },
      { output: 'corrupt.parquet', show: { kind: 'series', x: 't', y: ['v'] } },
      { output: 'ok.csv', show: { kind: 'series', x: 'nope', y: ['a'] } },
      { output: 'ok.csv', show: { kind: 'image', stretch: 'rainbow' } },
    ]);
    const previews = await previewsOfRun({ dir: join(out, '.quiver', 'runs', 'r1'), manifest }, out);
    const text = (html: string) => html.replace(/&#(\d+);/g, (_, c) => String.fromCharCode(Number(c)));
    const byTitle = (t: string) => { const p = previews.find((q) => q.title === t)!; return { ...p, html: text(p.html) }; };
    expect(byTitle('Gone').html).toMatch(/Cannot preview: the run wrote no output 'gone.parquet'/);
    expect(byTitle('corrupt.parquet').html).toMatch(/Cannot preview: /);
    expect(text(previews.filter((p) => p.output === 'ok.csv').map((p) => p.html).join('\n'))).toMatch(/no column 'nope'/);
    expect(previews.some((p) => /results entry is not valid: show.stretch/.test(p.html))).toBe(true);
    expect(byTitle('notes.txt').html).toContain('notes.txt (5 B)');
    const html = renderReport(manifest, '', previews);
    expect(html).toContain('<h2>Results</h2>');
    expect(html).toContain('Cannot preview');
  });

  test('tablePage pages through a CSV with its total', async () => {
    const file = join(scratch, 'page.csv');
    writeFileSync(file, `i,s\n${Array.from({ length: 25 }, (_, i) => `${i},r${i}`).join('\n')}\n`);
    const page = await tablePage(file, 10, 5);
    expect(page.columns.map((c) => c.name)).toEqual(['i', 's']);
    expect(page.rows.map((r) => r.i)).toEqual([10, 11, 12, 13, 14]);
    expect(page.total).toBe(25);
    expect((await tablePage(file, 24, 10)).rows).toHaveLength(1);
  });
});

test('the results schema: kinds checked with their own fields', () => {
  expect(resultSpecSchema.safeParse({ output: 'a.parquet', show: { kind: 'series', x: 't', y: ['v'], log: true } }).success).toBe(true);
  expect(resultSpecSchema.safeParse({ output: 'a.parquet', show: { kind: 'series', x: 't' } }).success).toBe(false);
  expect(resultSpecSchema.safeParse({ output: 'a.nii.gz', show: { kind: 'image', stretch: 'hu-window', window: 'lung', mask: { output: 'm/' } } }).success).toBe(true);
  expect(resultSpecSchema.safeParse({ output: 'a.nii.gz', show: { kind: 'image', window: [10, 5] } }).success).toBe(false);
  expect(resultSpecSchema.safeParse({ output: 'rd.arrow', show: { kind: 'range-doppler', detections: 'd.parquet', colour: 'x' } }).success).toBe(false);
});

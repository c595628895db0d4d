// `quiver serve` in a real browser (Chromium driven by playwright-core): the runs list, a run page
// with its graph, quarantined rows and a paged table preview, and a live run whose counts change on
// the page while it runs, without a reload, until it ends and the page shows the finished record.
// Each view is asserted on the DOM and saved as a screenshot that must be a PNG of something.
// Chromium: QUIVER_CHROMIUM, or Debian's /usr/bin/chromium (CI installs it, see .ci/run).
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LocalExecutor } from '../../src/engine/executors/local.ts';
import { runWorkflow } from '../../src/engine/run-workflow.ts';
import { startServer, type RunningServer } from '../../src/observe/serve/server.ts';
import { builtinCatalog } from '../../src/stages/index.ts';
import { workflow } from '../../src/workflow/builder.ts';
import { quiverAsync } from '../cache/util.ts';
import { repoRoot, scratchDir } from '../helpers.ts';

const chromiumPath = process.env.QUIVER_CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = existsSync(chromiumPath);
if (!haveChromium) console.warn(`serve-browser: skipped, no Chromium at ${chromiumPath} (install it: apt-get install -y chromium, or set QUIVER_CHROMIUM)`);

const fixtures = join(repoRoot, 'test', 'fixtures');
const scratch = scratchDir('quiver-serve-browser-');
const shots = process.env.QUIVER_SCREENSHOTS ?? join(scratch, 'screenshots');
mkdirSync(shots, { recursive: true });

/** A PNG with a width and height, whose pixels are not all alike. */
function expectPicture(file: string): { width: number; height: number } {
  const png = readFileSync(file);
  expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
  expect(png.toString('latin1', 12, 16)).toBe('IHDR');
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  expect(width).toBeGreaterThan(100);
  expect(height).toBeGreaterThan(100);
  const idat: Buffer[] = [];
  for (let at = 8; at < png.length;) {
    const length = png.readUInt32BE(at);
    if (png.toString('latin1', at + 4, at + 8) === 'IDAT') idat.push(png.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  const pixels = inflateSync(Buffer.concat(idat));
  const distinct = new Set(pixels);
  expect(distinct.size).toBeGreaterThan(16); // text, lines and colours, not a blank page
  return { width, height };
}

describe.skipIf(!haveChromium)('quiver serve in Chromium', () => {
  const done = join(scratch, 'done');
  const live = join(scratch, 'live');
  const steps = join(scratch, 'steps');
  let server: RunningServer;
  let browser: Browser;
  let runId: string;
  const consoleErrors: string[] = [];
  const dialogs: string[] = [];
  const hostileId = '20000101T000000Z-bad000';
  const hostile = '<img src=x onerror="alert(1)"><script>alert(2)</script>';

  beforeAll(async () => {
    const executor = new LocalExecutor({ workers: 2 });
    try {
      const summary = await runWorkflow(workflow('picky', { baseDir: fixtures })
        .stage('gen', 'source.generate', { partitions: 3, rows: 200, columns: { id: 'int64', x: 'float64' }, seed: 1 })
        .stage('check', './stages.ts#picky', { every: 7 }, { from: 'gen', onError: 'quarantine' })
        .stage('kept', 'sink.parquet', { path: 'kept.parquet' }, { from: 'check' })
        .stage('csv', 'sink.csv', { path: 'kept.csv' }, { from: 'check' }), { catalog: builtinCatalog, out: done, executor });
      expect(summary.status).toBe('ok');
      runId = summary.runId;
    } finally {
      await executor.close();
    }
    // A record with a hostile workflow name and error: shown as text, never run.
    const runs = join(done, '.quiver', 'runs');
    cpSync(join(runs, runId), join(runs, hostileId), { recursive: true });
    const m = JSON.parse(readFileSync(join(runs, hostileId, 'manifest.json'), 'utf8'));
    Object.assign(m, { runId: hostileId, status: 'failed', error: hostile, startedAt: '2000-01-01T00:00:00.000Z', endedAt: '2000-01-01T00:00:01.000Z' });
    m.workflow.name = hostile;
    writeFileSync(join(runs, hostileId, 'manifest.json'), JSON.stringify(m));
    server = await startServer({ outs: [done, live], port: 0 });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function open(path: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(new URL(path, server.url).href);
    return page;
  }

  async function shoot(page: Page, name: string): Promise<void> {
    const file = join(shots, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    expectPicture(file);
  }

  test('the runs list', async () => {
    const page = await open('/');
    await page.locator(`tr[data-run="${runId}"]`).waitFor();
    expect(await page.locator(`tr[data-run="${runId}"] .status`).textContent()).toBe('ok');
    expect(await page.locator(`tr[data-run="${runId}"] td`).nth(1).textContent()).toBe('picky');
    // The hostile record's name is text on the page; nothing of it ran.
    expect(await page.locator(`tr[data-run="${hostileId}"] td`).nth(1).textContent()).toBe(hostile);
    await page.locator(`tr[data-run="${hostileId}"] a`).first().click();
    await page.locator('header h1').waitFor();
    expect(await page.locator('header h1').textContent()).toBe(hostile);
    expect(await page.locator('header pre.error').textContent()).toBe(hostile);
    expect(await page.locator('header img, header script').count()).toBe(0);
    expect(dialogs).toEqual([]);
    await page.goto(server.url);
    await shoot(page, 'runs-list');
    await page.close();
  });

  test('a run page: graph, stage table, quarantined rows with _error, a table preview paged in place', async () => {
    const page = await open(`/runs/0/${runId}`);
    await page.locator('svg.graph').waitFor();
    expect(await page.locator('svg.graph g.node').count()).toBe(4);
    expect(await page.locator('svg.graph g.node[data-stage="check"]').getAttribute('class')).toContain('quarantined');
    // The time bars have their widths (inline styles pass the CSP; scripts only from the server).
    expect(await page.locator('.bar').first().evaluate((e) => (e as HTMLElement).style.width)).toMatch(/%$/);
    const quarantined = page.locator('section.quarantined-rows');
    expect(await quarantined.locator('th').allTextContents()).toContain('_error');
    expect(await quarantined.locator('tbody td').allTextContents()).toContain('id 0 is not allowed');
    const preview = page.locator('section.preview[data-output="kept.parquet"]');
    await preview.locator('table tbody tr').first().waitFor();
    expect(await preview.locator('tbody tr').first().locator('td').first().textContent()).toBe('1');
    await preview.locator('button.next').click();
    // The next page starts after the rows the preview showed (10), and holds up to 20.
    await page.waitForFunction(() => document.querySelector('section.preview[data-output="kept.parquet"] .where')?.textContent?.startsWith('rows 11–30 of 514'));
    // ids 0, 7, 14, … were set aside: the 11th row kept is id 12.
    expect(await preview.locator('tbody tr').first().locator('td').first().textContent()).toBe('12');
    await preview.locator('button.prev').click();
    await page.waitForFunction(() => document.querySelector('section.preview[data-output="kept.parquet"] .where')?.textContent?.startsWith('rows 1–20 of 514'));
    await shoot(page, 'run-page');
    // The same table without scripts: a page per offset.
    await page.goto(new URL(`/runs/0/${runId}/table?output=kept.csv&format=html&limit=10`, server.url).href);
    await page.getByText('next ▶').first().click();
    await page.getByText('rows 11–20 of 514').waitFor();
    await shoot(page, 'table-page');
    await page.close();
    expect(consoleErrors).toEqual([]);
  });

  test('reference results: the GOES light curve plotted with its flare, the range-Doppler map drawn with its detections', async () => {
    // As npm start leaves them: several workflows into one --out, each in its own folder below it.
    const results = join(scratch, 'results');
    const run = await quiverAsync(['run', 'workflows/astronomy/goes-flares.yaml', 'workflows/radar/cfar.yaml', '--out', results]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('M2.5');
    const served = await startServer({ outs: [results], port: 0 });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      page.on('pageerror', (e) => consoleErrors.push(e.message));
      await page.goto(served.url);
      const links = page.locator('table.runs tbody tr td:nth-child(2) a');
      await links.first().waitFor();
      expect((await links.allTextContents()).sort()).toEqual(['goes-flares', 'radar-cfar']);

      await page.locator('a', { hasText: 'goes-flares' }).click();
      const curve = page.locator('section.preview[data-output="lightcurve.parquet"] svg.chart');
      await curve.waitFor();
      // Two series drawn as long lines, the flare's class written on the plot.
      const paths = await curve.locator('path').evaluateAll((ps) => ps.map((p) => (p.getAttribute('d') ?? '').length));
      expect(paths.filter((n) => n > 1000).length).toBeGreaterThanOrEqual(2);
      expect(await curve.textContent()).toContain('M2.5');
      expect((await curve.boundingBox())!.width).toBeGreaterThan(300);
      await curve.screenshot({ path: join(shots, 'goes-light-curve.png') });
      expectPicture(join(shots, 'goes-light-curve.png'));

      await page.goto(served.url);
      await page.locator('a', { hasText: 'radar-cfar' }).click();
      const map = page.locator('section.preview[data-output="range-doppler.arrow"] svg.picture');
      await map.waitFor();
      // The map is a PNG the browser decoded, with the detections circled over it.
      const href = await map.locator('image').getAttribute('href');
      expect(href).toMatch(/^data:image\/png;base64,/);
      const size = await page.evaluate(async (src) => {
        const img = new Image();
        img.src = src;
        await img.decode();
        return [img.naturalWidth, img.naturalHeight];
      }, href!);
      expect(Math.min(...size)).toBeGreaterThan(16);
      expect(await map.locator('circle').count()).toBeGreaterThanOrEqual(1);
      await map.screenshot({ path: join(shots, 'range-doppler.png') });
      expectPicture(join(shots, 'range-doppler.png'));
      await page.close();
    } finally {
      await served.close();
    }
    expect(consoleErrors).toEqual([]);
  });

  test('a live run: counts change on the page as partitions finish, without a reload, then the finished record', async () => {
    mkdirSync(steps);
    const flows = join(scratch, 'flows');
    mkdirSync(flows);
    writeFileSync(join(flows, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(join(flows, 'stages.ts'), `export { stepper } from ${JSON.stringify(join(fixtures, 'stepper.ts'))};\n`);
    writeFileSync(join(flows, 'stepped.yaml'), `name: stepped
stages:
  - { id: gen, use: source.generate, with: { partitions: 4, rows: 25, columns: { id: int64, x: float64 } } }
  - { id: held, use: ./stages.ts#stepper, from: gen, with: { dir: ${JSON.stringify(steps)} } }
  - { id: out, use: sink.csv, from: held, with: { path: stepped.csv } }
`);
    const run = quiverAsync(['run', join(flows, 'stepped.yaml'), '--out', live, '--workers', '2']);
    const until = async (ready: () => boolean) => {
      while (!ready()) await new Promise((r) => setTimeout(r, 50));
    };
    const go = (i: number) => writeFileSync(join(steps, `go-${i}`), '');
    try {
      // The first partition waits in the stage: the run has started, and logged its stages.
      await until(() => existsSync(join(steps, 'waiting-0')));
      const [id] = readdirSync(join(live, '.quiver', 'runs'));
      const page = await open(`/runs/1/${id}`);
      await page.locator('svg.graph g.node[data-stage="held"]').waitFor();
      expect(await page.locator('#live-state').textContent()).toBe('running');
      await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
      const cell = (stage: string, field: string) => page.locator(`tr[data-stage="${stage}"] [data-field="${field}"]`);
      expect(await cell('held', 'tasks').textContent()).toMatch(/^0 \/ (4|\?)$/);
      expect(await cell('held', 'rowsOut').textContent()).toBe('0');
      // A partition's rows count as soon as its result is in; its task once the next one's is (partitions end in order).
      go(0);
      await page.waitForFunction(() => document.querySelector('tr[data-stage="held"] [data-field="rowsOut"]')?.textContent === '25', undefined, { timeout: 240_000 });
      go(1);
      await page.waitForFunction(() => /^[1-3] \/ 4$/.test(document.querySelector('tr[data-stage="held"] [data-field="tasks"]')?.textContent ?? ''), undefined, { timeout: 240_000 });
      expect(await cell('held', 'rowsOut').textContent()).toBe('50');
      expect(await page.locator('svg.graph g.node[data-stage="held"] text.counts').textContent()).toMatch(/^[1-3]\/4 tasks \/ 0 cached$/);
      expect(await page.locator('svg.graph g.node[data-stage="held"]').getAttribute('class')).toContain('running');
      expect(Number(await page.locator('#live-updates').textContent())).toBeGreaterThanOrEqual(2);
      expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true); // not reloaded
      expect(existsSync(join(live, '.quiver', 'runs', id, 'manifest.json'))).toBe(false); // still running
      await shoot(page, 'live-run');
      const list = await open('/');
      expect(await list.locator(`tr[data-run="${id}"] .status`).textContent()).toBe('running');
      await shoot(list, 'runs-list-live');
      await list.close();
      go(2);
      go(3);
      // The run ends: the page reloads itself into the finished record.
      await page.locator('header .status.ok').waitFor({ timeout: 240_000 });
      expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBeUndefined();
      expect(await page.locator('tr[data-stage="held"] td').nth(4).textContent()).toBe('4');
      await shoot(page, 'live-run-finished');
      await page.close();
    } finally {
      for (let i = 0; i < 4; i++) go(i);
      const result = await run;
      expect(result.code, result.stderr).toBe(0);
    }
    expect(consoleErrors).toEqual([]);
    expect(dialogs).toEqual([]);
  });
});

// The run report (`quiver report RUN`): real runs in, one self-contained HTML page out, with every
// string from the record escaped.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LocalExecutor } from '../../src/engine/executors/local.ts';
import { runWorkflow } from '../../src/engine/run-workflow.ts';
import type { RunSummary } from '../../src/observe/summary.ts';
import { escapeHtml, parseRunLog, renderReport } from '../../src/observe/report.ts';
import { readManifest, type RunRecord } from '../../src/provenance/runs.ts';
import { builtinCatalog } from '../../src/stages/index.ts';
import { workflow } from '../../src/workflow/builder.ts';
import { repoRoot, scratchDir } from '../helpers.ts';

const fixtures = join(repoRoot, 'test', 'fixtures');
const executor = new LocalExecutor({ workers: 2 });
afterAll(() => executor.close());
const scratch = scratchDir();
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const gen = { partitions: 4, rows: 500, batchRows: 128, columns: { id: 'int64', x: 'float64' } };
const total = gen.partitions * gen.rows;
const rejected = Math.ceil(total / 7); // ids 0, 7, 14, ... are quarantined by `picky`

// gen → check (quarantines) → kept (sink); check → stats (reduce) → summary (sink): a fan-out, 3 layers deep.
const pickyWorkflow = () => workflow('picky', { baseDir: fixtures })
  .stage('gen', 'source.generate', { ...gen, seed: 42 })
  .stage('check', './stages.ts#picky', { every: 7 }, { from: 'gen', onError: 'quarantine' })
  .stage('kept', 'sink.parquet', { path: 'kept.parquet' }, { from: 'check' })
  .stage('stats', 'table.aggregate', { aggregates: { n: 'count(*)' } }, { from: 'check' })
  .stage('summary', 'sink.csv', { path: 'summary.csv' }, { from: 'stats' });

const reportOf = (record: RunRecord) => renderReport(record.manifest, readFileSync(join(record.dir, 'log.jsonl'), 'utf8'));
const svgOf = (html: string) => /<svg class="graph"[\s\S]*?<\/svg>/.exec(html)?.[0] ?? '';
const stageRow = (html: string, id: string) => new RegExp(`<tr data-stage="${id}">(.*?)</tr>`).exec(html)?.[1] ?? '';
const cells = (row: string) => [...row.matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((m) => m[1].replace(/<[^>]+>/g, ''));

/** Nothing loaded from elsewhere: no scripts, stylesheets, fonts or URLs; images only as data: PNGs. */
function expectSelfContained(html: string) {
  expect(html).not.toMatch(/https?:\/\//);
  expect(html).not.toMatch(/<script|<link|<iframe|@import|@font-face/i);
  for (const m of html.matchAll(/\b(?:src|href)="([^"]*)"/gi)) expect(m[1]).toMatch(/^data:image\/png;base64,[A-Za-z0-9+/=]+$/);
  // The only url() is the SVG's own arrow marker, and scripts are refused even if one slipped in.
  expect(new Set([...html.matchAll(/url\(([^)]*)\)/g)].map((m) => m[1]))).toEqual(new Set(['#arrow']));
  expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
}

describe('run report', () => {
  const out = join(scratch, 'picky');
  let first: RunSummary;
  let second: RunSummary;

  beforeAll(async () => {
    first = await runWorkflow(pickyWorkflow(), { catalog: builtinCatalog, out, executor });
    second = await runWorkflow(pickyWorkflow(), { catalog: builtinCatalog, out, executor });
  });

  test('header, stage table, quarantine, outputs with sha256, params and seeds of a real run', () => {
    expect(first.status).toBe('ok');
    const record = readManifest(out, first.runId);
    const m = record.manifest;
    const html = reportOf(record);
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain('<h1>picky</h1>');
    expect(html).toContain(first.runId);
    expect(html).toContain('<span class="status ok">ok</span>');
    expect(html).toContain(m.startedAt);
    expect(html).toContain(m.endedAt);
    expect(html).toContain(`Node.js ${process.version}`);
    expect(html).not.toContain('class="error"');

    // One table row per stage, with the record's counts.
    expect([...html.matchAll(/<tr data-stage="([^"]+)">/g)].map((x) => x[1])).toEqual(['gen', 'check', 'kept', 'stats', 'summary']);
    expect(cells(stageRow(html, 'check')).slice(0, 9)).toEqual(['check', './stages.ts#picky', 'map', '1', '4', '0', '2,000', (total - rejected).toLocaleString('en-US'), String(rejected)]);
    expect(cells(stageRow(html, 'gen'))[6]).toBe('0');
    // The time bars: the slowest stage's is full width, none wider.
    const widths = [...html.matchAll(/class="bar" style="width:([\d.]+)%"/g)].map((x) => Number(x[1]));
    expect(widths).toHaveLength(5);
    expect(Math.max(...widths)).toBe(100);

    // Every output, the quarantine file among them, with its full sha256 (title) and short form.
    const quarantine = m.outputs.find((o) => o.path === join('_quarantine', 'check.parquet'))!;
    expect(quarantine).toBeDefined();
    expect(m.outputs).toHaveLength(3);
    for (const o of m.outputs) {
      expect(o.sha256).toBe(sha(join(out, o.path)));
      expect(html).toContain(`title="${o.sha256}">${o.sha256.slice(0, 12)}…</span>`);
      expect(html).toContain(`>${o.path}</span>`);
    }
    const quarantineSection = /<h2>Quarantine<\/h2>([\s\S]*?)<\/section>/.exec(html)![1];
    expect(quarantineSection).toMatch(new RegExp(`_quarantine/check\\.parquet</span></td><td>check</td><td class="n">${rejected}</td>`));
    expect(quarantineSection).toContain(quarantine.sha256);

    // Why tasks ran: every task-reason line of the log, and the task counts of the record.
    const reasons = parseRunLog(readFileSync(join(record.dir, 'log.jsonl'), 'utf8')).filter((e) => e.event === 'task-reason');
    expect(reasons.length).toBeGreaterThan(0);
    for (const r of reasons) expect(html).toContain(`<td><span class="mono">${escapeHtml(r.task)}</span></td><td>${escapeHtml(r.reason)}</td>`);
    const computed = m.tasks.filter((t) => t.status === 'computed').length;
    expect(computed).toBeGreaterThan(0);
    expect(html).toContain(`${computed} task(s) computed, 0 from the cache`);
    expect(html).toContain('No task was retried.');

    // Params (none), seeds (gen's), packages from the lockfile.
    expect(m.seeds).toEqual({ gen: 42 });
    expect(html).toMatch(/<h2>Seeds<\/h2>\s*<table>.*<span class="mono">gen<\/span><\/td><td><span class="mono">42<\/span>/s);
    expect(m.packages['apache-arrow']).toMatch(/^\d+\.\d+\.\d+$/);
    expect(html).toContain(`apache-arrow</span></td><td><span class="mono">${m.packages['apache-arrow']}</span>`);
    expectSelfContained(html);
  });

  test('the stage graph is an SVG with one box per stage, laid out left to right along from', () => {
    const svg = svgOf(reportOf(readManifest(out, first.runId)));
    const nodes = [...svg.matchAll(/<g class="node[^"]*" data-stage="([^"]+)" transform="translate\((\d+) (\d+)\)">/g)]
      .map((x) => ({ id: x[1], x: Number(x[2]), y: Number(x[3]) }));
    expect(nodes.map((n) => n.id)).toEqual(['gen', 'check', 'kept', 'stats', 'summary']);
    const at = Object.fromEntries(nodes.map((n) => [n.id, n]));
    // Layers: gen | check | kept, stats | summary.
    expect(at.gen.x).toBeLessThan(at.check.x);
    expect(at.check.x).toBeLessThan(at.kept.x);
    expect(at.kept.x).toBe(at.stats.x);
    expect(at.kept.y).not.toBe(at.stats.y);
    expect(at.stats.x).toBeLessThan(at.summary.x);
    // A chain stays level: gen, check and kept on one row, summary beside stats.
    expect(new Set([at.gen.y, at.check.y, at.kept.y]).size).toBe(1);
    expect(at.summary.y).toBe(at.stats.y);
    // One edge per `from`, and each box says its use and counts.
    expect([...svg.matchAll(/<path class="edge"[^>]*><title>([^<]+)<\/title>/g)].map((x) => x[1]).sort())
      .toEqual(['check → kept', 'check → stats', 'gen → check', 'stats → summary']);
    expect(svg).toContain('./stages.ts#picky');
    expect(svg).toContain('4 tasks / 0 cached');
    // The quarantining stage is marked; nothing is marked failed in an ok run.
    expect(svg).toMatch(/<g class="node quarantined" data-stage="check"/);
    expect(svg).not.toContain('failed');
  });

  test('a second, fully cached run: every box grey, nothing computed', () => {
    expect(second.stages.every((s) => s.cached === s.tasks)).toBe(true);
    const html = reportOf(readManifest(out, 'latest'));
    expect(html).toContain(second.runId);
    const classes = [...svgOf(html).matchAll(/<g class="([^"]+)" data-stage=/g)].map((x) => x[1]);
    expect(classes).toHaveLength(5);
    for (const c of classes) expect(c).toMatch(/\bcached\b/);
    expect(html).toContain('0 task(s) computed');
  });

  test('a failed run with retries: the error, file names and causes are escaped', async () => {
    const data = join(scratch, 'csv-in');
    mkdirSync(data, { recursive: true });
    const bad = `b<i>&"q'.csv`;
    writeFileSync(join(data, 'a.csv'), 'id,x\n1,0.5\n');
    writeFileSync(join(data, bad), 'id,x\n3,0.5\n4,"unterminated\n');
    const wf = workflow('csvs', { baseDir: data })
      .stage('read', 'source.csv', { path: '*.csv', schema: { id: 'int64', x: 'float64' } }, { retries: 1 })
      .stage('out', 'sink.parquet', { path: 'all.parquet' }, { from: 'read' });
    const dir = join(scratch, 'csv-out');
    const summary = await runWorkflow(wf, { catalog: builtinCatalog, out: dir, executor });
    expect(summary.status).toBe('failed');
    expect(summary.error).toContain(bad);

    const record = readManifest(dir, 'latest');
    const html = reportOf(record);
    expect(html).toContain('<span class="status failed">failed</span>');
    expect(html).toContain(`<pre class="error">${escapeHtml(summary.error)}</pre>`);
    expect(escapeHtml(bad)).toBe('b&#60;i&#62;&#38;&#34;q&#39;.csv');
    expect(html).toContain(escapeHtml(bad));
    // The raw name appears nowhere: not in the error, the inputs, the retries or the workflow text.
    expect(html).not.toContain('<i>');
    expect(html).not.toContain(bad);
    // The input table lists both files with their sha256.
    const inputs = record.manifest.inputs;
    expect(inputs.map((i) => i.path).sort()).toEqual(['a.csv', bad]);
    for (const i of inputs) expect(html).toContain(`title="${i.sha256}"`);
    expect(i0(inputs).sha256).toBe(sha(join(data, 'a.csv')));
    // The retry the log recorded, with its cause.
    const retries = parseRunLog(readFileSync(join(record.dir, 'log.jsonl'), 'utf8')).filter((e) => e.event === 'retry');
    expect(retries).toHaveLength(1);
    const retrySection = /<h2>Retries<\/h2>([\s\S]*?)<\/section>/.exec(html)![1];
    expect(retrySection).toContain(escapeHtml(retries[0].cause));
    expect(retrySection).toMatch(/<td>1<\/td>/);
    // The stage the error names is marked in the graph.
    expect(svgOf(html)).toMatch(/<g class="node failed" data-stage="read"/);
    expect(html).toContain('No outputs recorded');
    expectSelfContained(html);
  });

  test('markup in any recorded string stays text', () => {
    const record = readManifest(out, first.runId);
    const evil = `</pre><script>alert("x")</script> & 'y'`;
    const manifest = {
      ...record.manifest, status: 'failed' as const, error: evil,
      params: { [`<b>name`]: evil }, outputs: [{ path: `a<b>"c".csv`, sha256: `"><script>`, bytes: 1 }],
    };
    const html = renderReport(manifest, JSON.stringify({ event: 'task-reason', task: '<t>', reason: evil }) + '\n{"torn');
    expect(html).not.toMatch(/<script|<b>|<t>|a<b>/);
    expect(html).toContain('&#60;/pre&#62;&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; &#39;y&#39;');
    expect(html).toContain('title="&#34;&#62;&#60;script&#62;"');
    expect(html).toContain('&#60;t&#62;');
  });
});

const i0 = (inputs: { path: string; sha256?: string }[]) => inputs.find((i) => i.path === 'a.csv')!;

describe('quiver report', () => {
  const out = join(scratch, 'cli');
  const quiver = (...args: string[]) => {
    const result = spawnSync(process.execPath, [join(repoRoot, 'src/cli/quiver.mjs'), ...args], { cwd: repoRoot, encoding: 'utf8' });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  let run: RunSummary;
  beforeAll(async () => {
    run = await runWorkflow(pickyWorkflow(), { catalog: builtinCatalog, out, executor });
  });

  test('writes OUT/.quiver/runs/RUN_ID/report.html, or --to FILE; exit 0', () => {
    const result = quiver('report', 'latest', '--out', out);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const file = join(out, '.quiver', 'runs', run.runId, 'report.html');
    expect(result.stdout).toContain(file);
    const html = readFileSync(file, 'utf8');
    expect(html).toContain(run.runId);
    expect(svgOf(html).match(/<g class="node/g)).toHaveLength(5);

    const to = join(scratch, 'elsewhere', 'r.html');
    expect(quiver('report', run.runId.slice(0, -2), '--out', out, '--to', to).code).toBe(0);
    expect(readFileSync(to, 'utf8')).toBe(html);
  });

  test('an unknown run: exit 1 and one sentence naming it; a missing RUN: exit 2', () => {
    const result = quiver('report', 'nope', '--out', out);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^quiver report: no run 'nope' in .*; runs there: ${run.runId}\\n$`));
    expect(existsSync(join(out, '.quiver', 'runs', 'nope'))).toBe(false);
    expect(quiver('report', '--out', out).code).toBe(2);
  });
});

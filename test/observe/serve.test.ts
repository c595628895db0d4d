// `quiver serve` over HTTP (no browser): the pages of real runs, what it refuses (paths that leave
// the out folders, methods other than GET and HEAD, other hosts), escaping of hostile records, the
// table, report and crate endpoints, the live event stream that tails a growing log, and the command.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LocalExecutor } from '../../src/engine/executors/local.ts';
import { runWorkflow } from '../../src/engine/run-workflow.ts';
import { outFoldersUnder, startServer, type RunningServer } from '../../src/observe/serve/server.ts';
import { LogTail } from '../../src/observe/serve/tail.ts';
import type { Manifest } from '../../src/provenance/manifest.ts';
import { builtinCatalog } from '../../src/stages/index.ts';
import { workflow } from '../../src/workflow/builder.ts';
import { quiverBin } from '../cache/util.ts';
import { repoRoot, scratchDir } from '../helpers.ts';

const fixtures = join(repoRoot, 'test', 'fixtures');
const scratch = scratchDir('quiver-serve-');
const out = join(scratch, 'out');
const runs = join(out, '.quiver', 'runs');
const liveId = '20991231T235959Z-live00';
const hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>';

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: string }

/** A raw request: the target is sent exactly as given (no normalising of `..` or percent-escapes). */
function get(server: RunningServer, target: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path: target, method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('quiver serve over HTTP', () => {
  let server: RunningServer;
  let runId: string;
  const hostileId = '20000101T000000Z-bad000';

  beforeAll(async () => {
    const executor = new LocalExecutor({ workers: 2 });
    try {
      const summary = await runWorkflow(workflow('picky', { baseDir: fixtures })
        .stage('gen', 'source.generate', { partitions: 3, rows: 200, columns: { id: 'int64', x: 'float64' }, seed: 1 })
        .stage('check', './stages.ts#picky', { every: 7 }, { from: 'gen', onError: 'quarantine' })
        .stage('kept', 'sink.parquet', { path: 'kept.parquet' }, { from: 'check' })
        .stage('csv', 'sink.csv', { path: 'kept.csv' }, { from: 'check' }), { catalog: builtinCatalog, out, executor });
      expect(summary.status).toBe('ok');
      runId = summary.runId;
    } finally {
      await executor.close();
    }
    // A record with hostile text everywhere, and an "output" that is a link out of the folder.
    cpSync(join(runs, runId), join(runs, hostileId), { recursive: true });
    const m = JSON.parse(readFileSync(join(runs, hostileId, 'manifest.json'), 'utf8')) as Manifest;
    m.runId = hostileId;
    m.workflow.name = hostile;
    m.error = `stage 'check' failed: ${hostile}`;
    m.status = 'failed';
    m.params = { note: hostile };
    symlinkSync('/etc/passwd', join(out, 'passwd.csv'));
    // With the true sha256 of what they lead to, as someone writing the record could give it.
    const passwd = createHash('sha256').update(readFileSync('/etc/passwd')).digest('hex');
    m.outputs.push({ path: 'passwd.csv', sha256: passwd, bytes: 1 }, { path: '../../etc/passwd', sha256: passwd, bytes: 1 });
    writeFileSync(join(runs, hostileId, 'manifest.json'), JSON.stringify(m));
    // A run folder that is a link to elsewhere is not a run.
    mkdirSync(join(scratch, 'elsewhere'));
    symlinkSync(join(scratch, 'elsewhere'), join(runs, '20000101T000000Z-link00'));
    // A run still going: a folder with a log and no record.
    mkdirSync(join(runs, liveId));
    writeFileSync(join(runs, liveId, 'log.jsonl'), `${JSON.stringify({ level: 30, time: new Date().toISOString(), event: 'run-start', workflow: 'live', stages: [{ id: 'a', use: 'source.generate', kind: 'source', from: [] }, { id: 'b', use: 'sink.csv', kind: 'sink', from: ['a'] }] })}\n`);
    server = await startServer({ outs: [out, join(scratch, 'missing')], port: 0 });
  });
  afterAll(() => server?.close());

  test("the engine's log: the stages and their inputs at run-start, and stats lines ending with the final counts", () => {
    const events = readFileSync(join(runs, runId, 'log.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const start = events.find((e) => e.event === 'run-start');
    expect(start.stages).toEqual([
      { id: 'gen', use: 'source.generate', kind: 'source', from: [] },
      { id: 'check', use: './stages.ts#picky', kind: 'map', from: ['gen'] },
      { id: 'kept', use: 'sink.parquet', kind: 'sink', from: ['check'] },
      { id: 'csv', use: 'sink.csv', kind: 'sink', from: ['check'] },
    ]);
    const stats = events.filter((e) => e.event === 'stats');
    expect(stats.length).toBeGreaterThanOrEqual(1);
    for (let i = 1; i < stats.length; i++) expect(stats[i].stages).not.toEqual(stats[i - 1].stages); // only when changed
    const last = stats[stats.length - 1];
    expect(events.indexOf(last)).toBeLessThan(events.findIndex((e) => e.event === 'run-end'));
    const m = JSON.parse(readFileSync(join(runs, runId, 'manifest.json'), 'utf8')) as Manifest;
    expect(last.stages).toEqual(m.stages.map((s) => ({
      id: s.id, tasks: s.stats.tasks, ...(s.stats.tasksTotal !== undefined ? { tasksTotal: s.stats.tasksTotal } : {}),
      cached: s.stats.cached, rowsIn: s.stats.rowsIn, rowsOut: s.stats.rowsOut, quarantined: s.stats.quarantined,
    })));
    expect(last.stages.find((s: { id: string }) => s.id === 'check').quarantined).toBe(Math.ceil(600 / 7));
  });

  test('the runs list: every run, newest first, with its status, and hostile names escaped', async () => {
    const r = await get(server, '/');
    expect(r.status).toBe(200);
    expect(r.headers['content-security-policy']).toContain("script-src 'self'");
    expect(r.headers['content-security-policy']).toContain("default-src 'none'");
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    const order = [liveId, runId, hostileId].map((id) => r.body.indexOf(`data-run="${id}"`));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(r.body).toMatch(new RegExp(`data-run="${liveId}"><td><span class="status running">`));
    expect(r.body).not.toContain('<script>alert');
    expect(r.body).not.toContain('<img src=x');
    expect(r.body).toContain('&#60;script&#62;alert');
    expect(r.body).not.toContain('link00');
  });

  test('a run page: graph, stage counts, quarantined rows with _error, results, links', async () => {
    const r = await get(server, `/runs/0/${runId}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/<svg class="graph"/);
    expect(r.body).toContain('data-stage="check"');
    expect(r.body).toContain('<th>_error</th>');
    expect(r.body).toContain('data-output="kept.parquet"');
    for (const link of ['report.html', 'crate.json', 'crate.zip', 'record/manifest.json', 'record/log.jsonl']) expect(r.body).toContain(`/runs/0/${runId}/${link}`);
    // Hostile record: escaped, and no script but the server's own.
    const bad = await get(server, `/runs/0/${hostileId}`);
    expect(bad.status).toBe(200);
    expect(bad.body).not.toMatch(/<script>alert|<img src=x/);
    expect([...bad.body.matchAll(/<script\b[^>]*>/g)].map((m) => m[0])).toEqual(['<script src="/assets/app.js" defer>']);
  });

  test('paths that leave the out folders are refused, encoded or not; so are links out', async () => {
    const targets = [
      '/../../../etc/passwd', '/runs/0/../../../../etc/passwd', '/runs/0/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
      `/runs/0/${runId}/record/..%2f..%2f..%2flock`, `/runs/0/${runId}/record/%2e%2e%5c%2e%2e%5cetc%5cpasswd`,
      `/runs/0/${runId}/record/%00manifest.json`, '/runs/0/%2Fetc%2Fpasswd', `/runs/0/${runId}/output?path=../../../etc/passwd`,
      `/runs/0/${runId}/output?path=%2Fetc%2Fpasswd`, `/runs/0/${runId}/output?path=..%2F..%2Fetc%2Fpasswd`,
      `/runs/0/${hostileId}/output?path=passwd.csv`, `/runs/0/${hostileId}/output?path=../../etc/passwd`,
      `/runs/0/${hostileId}/table?output=passwd.csv`, `/runs/0/${runId}/table?output=.quiver/lock`,
      `/runs/0/${runId}/record/../../../lock`, '/runs/0/20000101T000000Z-link00', '/runs/1/anything', '/runs/7/x',
      '//etc/passwd', '/runs/0/.quiver', `/runs/0/${runId}/record/report.html.tmp-1`,
    ];
    for (const target of targets) {
      const r = await get(server, target);
      expect([400, 403, 404], target).toContain(r.status);
      expect(r.body, target).not.toMatch(/root:.*:0:0:/);
      expect(r.body, target).not.toMatch(/at \S+ \(.*:\d+:\d+\)/); // no stack
      expect(r.headers['content-type'], target).toBe('text/html; charset=utf-8');
    }
    // What is listed is served.
    const ok = await get(server, `/runs/0/${runId}/output?path=kept.csv`);
    expect(ok.status).toBe(200);
    expect(ok.headers['content-disposition']).toBe('attachment; filename="kept.csv"');
    expect(ok.body.split('\n')[0]).toBe('id,x');
  });

  test('read-only: GET and HEAD only; other hosts refused', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const r = await get(server, '/', { method });
      expect(r.status, method).toBe(405);
      expect(r.headers.allow).toBe('GET, HEAD');
    }
    const head = await get(server, `/runs/0/${runId}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect((await get(server, '/', { headers: { host: 'attacker.example:8470' } })).status).toBe(403);
    expect((await get(server, '/', { headers: { host: `localhost:${server.port}` } })).status).toBe(200);
  });

  test('the table endpoint pages through rows as JSON or HTML', async () => {
    const first = JSON.parse((await get(server, `/runs/0/${runId}/table?output=kept.parquet&offset=0&limit=5`)).body);
    const next = JSON.parse((await get(server, `/runs/0/${runId}/table?output=kept.parquet&offset=5&limit=5`)).body);
    expect(first.columns).toEqual(['id', 'x']);
    const both = JSON.parse((await get(server, `/runs/0/${runId}/table?output=kept.parquet&offset=0&limit=10`)).body);
    expect(first.total).toBe(600 - Math.ceil(600 / 7)); // ids 0, 7, 14, … quarantined
    expect(first.rows).toHaveLength(5);
    expect([...first.rows, ...next.rows]).toEqual(both.rows);
    expect(first.rows.map((r: number[]) => r[0])).toEqual([1, 2, 3, 4, 5]);
    const html = await get(server, `/runs/0/${runId}/table?output=kept.csv&offset=10&limit=3&format=html`);
    expect(html.status).toBe(200);
    expect(html.body).toContain('rows 11–13 of');
    expect((await get(server, `/runs/0/${runId}/table?output=kept.csv&offset=-1`)).status).toBe(400);
    expect((await get(server, `/runs/0/${runId}/table?output=nothing.csv`)).status).toBe(404);
  });

  test('report.html is written on demand, and the RO-Crate comes as metadata or a zip', async () => {
    const report = await get(server, `/runs/0/${runId}/report.html`);
    expect(report.status).toBe(200);
    expect(report.headers['content-security-policy']).toContain("default-src 'none'");
    expect(report.headers['content-security-policy']).not.toContain('script-src');
    expect(report.body).toContain('<h2>Stage graph</h2>');
    expect(readFileSync(join(runs, runId, 'report.html'), 'utf8')).toBe(report.body);
    const crate = await get(server, `/runs/0/${runId}/crate.json`);
    expect(crate.status).toBe(200);
    expect(crate.headers['content-disposition']).toMatch(/^attachment; filename="picky-.*-ro-crate-metadata\.json"$/);
    const graph = JSON.parse(crate.body)['@graph'] as { '@id': string }[];
    expect(graph.some((e) => e['@id'] === 'outputs/kept.parquet')).toBe(true);
    const zip = await new Promise<Buffer>((resolve, reject) => {
      request({ host: '127.0.0.1', port: server.port, path: `/runs/0/${runId}/crate.zip` }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d) => parts.push(d));
        res.on('end', () => resolve(Buffer.concat(parts)));
      }).on('error', reject).end();
    });
    expect(zip.subarray(0, 4).toString('binary')).toBe('PK\x03\x04');
    expect(zip.includes(Buffer.from('outputs/kept.parquet'))).toBe(true);
    expect(zip.includes(Buffer.from('ro-crate-metadata.json'))).toBe(true);
    // A record naming files outside its out folder gets none of them into its crate.
    const bad = await new Promise<Buffer>((resolve, reject) => {
      request({ host: '127.0.0.1', port: server.port, path: `/runs/0/${hostileId}/crate.zip` }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d) => parts.push(d));
        res.on('end', () => resolve(Buffer.concat(parts)));
      }).on('error', reject).end();
    });
    expect(bad.subarray(0, 4).toString('binary'), bad.toString('utf8', 0, 2000)).toBe('PK\x03\x04');
    expect(bad.includes(Buffer.from('passwd'))).toBe(false);
    expect(bad.includes(Buffer.from('outputs/kept.parquet'))).toBe(true);
  });

  test('a live run: the page draws the graph from the log, and the event stream tails it (torn lines kept whole)', async () => {
    const page = await get(server, `/runs/0/${liveId}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('data-stage="b"');
    const from = Number(/events\?from=(\d+)/.exec(page.body)![1]);
    expect(from).toBe(readFileSync(join(runs, liveId, 'log.jsonl')).length);
    const received: { event: string; data: Record<string, unknown> }[] = [];
    let text = '';
    const done = new Promise<void>((resolve, reject) => {
      request({ host: '127.0.0.1', port: server.port, path: `/runs/0/${liveId}/events?from=${from}` }, (res) => {
        expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
          for (let end = text.indexOf('\n\n'); end !== -1; end = text.indexOf('\n\n')) {
            const block = text.slice(0, end);
            text = text.slice(end + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event && data) received.push({ event, data: JSON.parse(data) });
            if (event === 'run-end') {
              res.destroy();
              resolve();
            }
          }
        });
      }).on('error', reject).end();
    });
    const log = join(runs, liveId, 'log.jsonl');
    const stats = (tasks: number) => JSON.stringify({ level: 30, event: 'stats', stages: [{ id: 'a', tasks, tasksTotal: 3, cached: 0, rowsIn: 0, rowsOut: tasks * 10, quarantined: 0 }] });
    const until = async (ready: () => boolean) => {
      while (!ready()) await new Promise((r) => setTimeout(r, 50));
    };
    appendFileSync(log, `${stats(1)}\n`);
    await until(() => received.length >= 1);
    // A line written in two pieces arrives once, whole; other events pass; noise does not.
    const line = stats(2);
    appendFileSync(log, line.slice(0, 20));
    await new Promise((r) => setTimeout(r, 700));
    appendFileSync(log, `${line.slice(20)}\n${JSON.stringify({ event: 'task-reason', task: 'x' })}\nnot json\n`);
    await until(() => received.length >= 2);
    appendFileSync(log, `${JSON.stringify({ event: 'run-end', status: 'ok' })}\n`);
    await done;
    expect(received.map((r) => r.event)).toEqual(['stats', 'stats', 'run-end']);
    expect(received.map((r) => (r.data.stages as { tasks: number }[] | undefined)?.[0].tasks)).toEqual([1, 2, undefined]);
  });

  test('LogTail reads only new bytes and keeps a torn last line until it is whole', async () => {
    const file = join(scratch, 'tail.jsonl');
    writeFileSync(file, 'one\ntw');
    const lines: [string, number][] = [];
    const tail = new LogTail(file, (l, end) => lines.push([l, end]), { pollMs: 50 }).start();
    try {
      const until = async (n: number) => {
        while (lines.length < n) await new Promise((r) => setTimeout(r, 20));
      };
      await until(1);
      appendFileSync(file, 'o\nthré\n');
      await until(3);
      expect(lines).toEqual([['one', 4], ['two', 8], ['thré', 14]]);
    } finally {
      tail.stop();
    }
  });
});

test('out folders below the given one are found (one per workflow of a multi-workflow run), links and dot-folders not followed', () => {
  const root = join(scratch, 'many');
  for (const sub of ['finance/daily', 'astronomy/goes-flares', 'deep/a/b/c/d']) mkdirSync(join(root, sub, '.quiver', 'runs'), { recursive: true });
  mkdirSync(join(root, 'finance/daily/outputs-dir/.quiver/runs'), { recursive: true }); // inside an out folder: its outputs, not searched
  mkdirSync(join(root, '.hidden/x/.quiver/runs'), { recursive: true });
  symlinkSync(join(scratch, 'out'), join(root, 'linked'));
  expect(outFoldersUnder(root)).toEqual([root, join(root, 'astronomy/goes-flares'), join(root, 'finance/daily')]);
});

test('the command prints its address, serves, and exits 0 on SIGTERM', async () => {
  const child = spawn(process.execPath, [quiverBin, 'serve', '--out', out, '--port', '0'], { cwd: repoRoot });
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', () => {
      const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`quiver serve exited ${code} before printing its address`)));
  });
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(await res.text()).toContain('<h1>Runs</h1>');
  // An open event stream does not keep it from stopping: it is ended.
  let streamEnded!: Promise<void>;
  await new Promise<void>((connected, reject) => {
    request(`${url}runs/0/${liveId}/events`, (r) => {
      expect(r.statusCode).toBe(200);
      streamEnded = new Promise((ended) => r.on('close', ended).resume());
      connected();
    }).on('error', reject).end();
  });
  const code = await new Promise<number | null>((resolve) => {
    child.on('exit', (c) => resolve(c));
    child.kill('SIGTERM');
  });
  expect(code).toBe(0);
  await streamEnded;
});

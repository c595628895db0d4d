// `quiver serve`: a read-only web view of the runs recorded in one or more out folders, on Node's
// own http module. It serves nothing but pages made from run records, the run folders' own files,
// and the outputs a record lists — each path resolved and checked (links followed) to lie inside
// its out folder. GET and HEAD only; a strict CSP; everything from a record escaped.
import { type Dirent, existsSync, readdirSync, readFileSync, statSync, lstatSync, realpathSync, createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Manifest } from '../../provenance/manifest.ts';
import { exportRunCrate } from '../../provenance/ro-crate.ts';
import { listRuns, runsDir, type RunRecord } from '../../provenance/runs.ts';
import { parseRunLog, type LogEvent } from '../report.ts';
import { reportOf, writeReportFile } from '../report-file.ts';
import { previewsOfRun, tablePage } from '../results/index.ts';
import { appCss, appJs } from './assets.ts';
import { errorPage, livePage, runPage, runPath, runsPage, tableHtmlPage, type ListedRun, type RowsPage } from './pages.ts';
import { LogTail } from './tail.ts';
import { zipFiles } from './zip.ts';

export interface ServeOptions {
  /** Out folders whose runs are shown (their order gives the index in run URLs). */
  outs: string[];
  /** 0: any free port. Default 8470. */
  port?: number;
  /** Default 127.0.0.1 (this machine only). */
  host?: string;
}

export interface RunningServer {
  url: string;
  port: number;
  /** Ends event streams and open connections, then stops listening. */
  close(): Promise<void>;
}

/** A page or file for this request could not be given; `status` and a sentence for the reader. */
class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

// Inline styles are allowed (result previews are SVG with <style> and style attributes); scripts
// come from this server only, and nothing at all from elsewhere, so styles cannot send anything out.
const csp = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
// The report is self-contained: its styles are inline, and it has no scripts at all.
const reportCsp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
/** Log events passed on to live pages. */
const liveEvents = new Set(['run-start', 'stats', 'run-end', 'run-failed', 'retry', 'progress']);
/** Rows per table page, at most. */
const maxLimit = 1000;
/** Crates zipped in memory: beyond this, `quiver export` is the way. */
const maxZipBytes = 256 * 1024 * 1024;
const loopback = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const roots = options.outs.length ? options.outs.map((o) => resolve(o)) : [resolve('out')];
  // Out folders found under the roots (a run of several workflows writes one per workflow, e.g.
  // out/finance/daily). Only ever appended to, so a folder's number in URLs stays the same.
  const outs: string[] = [];
  const discover = () => {
    for (const root of roots) for (const found of outFoldersUnder(root)) if (!outs.includes(found)) outs.push(found);
  };
  discover();
  const host = options.host ?? '127.0.0.1';
  const streams = new Set<ServerResponse>();
  const cleanups = new Set<() => void>();

  const server: HttpServer = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      const message = error instanceof HttpError ? error.message : `the page could not be made: ${(error as Error)?.message ?? String(error)}`;
      if (res.headersSent) {
        res.destroy();
        return;
      }
      send(req, res, status, 'text/html; charset=utf-8', errorPage(status, message));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      throw new HttpError(405, `${req.method} is not served: this view is read-only (GET and HEAD only)`);
    }
    // A page from elsewhere that resolves its own name to this machine (DNS rebinding) gets nothing.
    if (loopback.has(host)) {
      const name = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
      if (!loopback.has(name)) throw new HttpError(403, `host '${name}' is not this machine; open the address quiver serve printed`);
    }
    const { segments, query } = parseTarget(req.url ?? '/');
    if (segments.length === 0) return listPage(req, res);
    if (segments[0] === 'assets' && segments.length === 2) {
      if (segments[1] === 'app.css') return send(req, res, 200, 'text/css; charset=utf-8', appCss);
      if (segments[1] === 'app.js') return send(req, res, 200, 'text/javascript; charset=utf-8', appJs);
    }
    if (segments[0] === 'favicon.ico' && segments.length === 1) return send(req, res, 204, 'text/plain', '');
    if (segments[0] === 'runs' && segments.length >= 3) {
      const run = findRun(segments[1], segments[2]);
      const rest = segments.slice(3);
      if (rest.length === 0) return runPageOf(req, res, run);
      if (rest.length === 1) {
        switch (rest[0]) {
          case 'events': return events(req, res, run, query);
          case 'table': return table(req, res, finished(run), query);
          case 'output': return output(req, res, finished(run), query);
          case 'report.html': return report(req, res, finished(run));
          case 'crate.json': return crate(req, res, finished(run), false);
          case 'crate.zip': return crate(req, res, finished(run), true);
        }
      }
      if (rest.length === 2 && rest[0] === 'record') return recordFile(req, res, run, rest[1]);
    }
    throw new HttpError(404, `nothing at ${req.url ?? ''}`);
  }

  interface FoundRun { outIndex: number; out: string; runId: string; dir: string; manifest?: Manifest }

  /** The run folder named by the URL: an existing folder right inside OUT/.quiver/runs, no link. */
  function findRun(index: string, runId: string): FoundRun {
    const outIndex = /^\d{1,4}$/.test(index) ? Number(index) : -1;
    if (outIndex >= outs.length) discover();
    if (!(outIndex >= 0 && outIndex < outs.length)) throw new HttpError(404, `no out folder number ${index} (this server shows ${outs.length})`);
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(runId)) throw new HttpError(404, `'${runId}' is not a run id`);
    const out = realOrNull(outs[outIndex]);
    const runs = out && realOrNull(runsDir(out));
    const dir = runs && join(runs, runId);
    if (!runs || !dir || !inside(out, runs) || !existsSync(dir) || realOrNull(dir) !== dir || !statSync(dir).isDirectory()) {
      throw new HttpError(404, `no run ${runId} in ${outs[outIndex]}`);
    }
    const path = join(dir, 'manifest.json');
    let manifest: Manifest | undefined;
    if (isPlainFile(path)) {
      try {
        manifest = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
      } catch (error) {
        throw new HttpError(500, `the record of run ${runId} cannot be read: ${(error as Error).message}`);
      }
    }
    return { outIndex, out, runId, dir, manifest };
  }

  function finished(run: FoundRun): FoundRun & { manifest: Manifest } {
    if (!run.manifest) throw new HttpError(404, `run ${run.runId} has no record yet (it is still going, or was interrupted)`);
    return run as FoundRun & { manifest: Manifest };
  }

  async function listPage(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const listed: ListedRun[] = [];
    const problems: string[] = [];
    discover();
    for (const [outIndex, out] of outs.entries()) {
      try {
        for (const run of listRuns(out)) listed.push({ outIndex, out, run, running: run.status === 'interrupted' && isRunning(out, run.runId, run.dir) });
      } catch (error) {
        problems.push(`${out}: ${(error as Error).message}`);
      }
    }
    listed.sort((a, b) => (a.run.startedAt ?? '') < (b.run.startedAt ?? '') ? 1 : (a.run.startedAt ?? '') > (b.run.startedAt ?? '') ? -1 : 0);
    send(req, res, 200, 'text/html; charset=utf-8', runsPage(outs, listed, problems));
  }

  async function runPageOf(req: IncomingMessage, res: ServerResponse, run: FoundRun): Promise<void> {
    const logPath = join(run.dir, 'log.jsonl');
    const log = isPlainFile(logPath) ? readFileSync(logPath) : Buffer.alloc(0);
    if (!run.manifest) {
      // Only whole lines: the event stream continues from the end of the last one.
      const end = log.lastIndexOf(10) + 1;
      const events = parseRunLog(log.subarray(0, end).toString('utf8'));
      return send(req, res, 200, 'text/html; charset=utf-8', livePage({
        outIndex: run.outIndex, runId: run.runId, events, offset: end, running: isRunning(run.out, run.runId, run.dir),
      }));
    }
    const manifest = run.manifest;
    const events = parseRunLog(log.toString('utf8'));
    const previews = await previewsOfRun({ dir: run.dir, manifest }, run.out).catch((error: Error) => `previews could not be made: ${error.message}`);
    const quarantined = await Promise.all((manifest.outputs ?? []).filter((o) => o.path.split(/[\\/]/)[0] === '_quarantine').map(async (o) => ({
      output: o.path,
      rows: await rowsOf(run.out, manifest, o.path, 0, 20).catch((error: Error) => `rows cannot be read: ${error.message}`),
    })));
    send(req, res, 200, 'text/html; charset=utf-8', runPage({
      outIndex: run.outIndex, runId: run.runId, manifest, events, previews, quarantined, files: recordFiles(run.dir),
    }));
  }

  /** Server-sent events: the run's log from byte `from` on, one event per line of interest. */
  async function events(req: IncomingMessage, res: ServerResponse, run: FoundRun, query: URLSearchParams): Promise<void> {
    const lastId = req.headers['last-event-id'];
    const from = Number(typeof lastId === 'string' && lastId ? lastId : query.get('from') ?? 0);
    if (!Number.isSafeInteger(from) || from < 0) throw new HttpError(400, 'from must be a byte offset (a whole number)');
    res.writeHead(200, { ...securityHeaders, 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    if (req.method === 'HEAD') return void res.end();
    res.write('retry: 2000\n\n');
    let ended = false;
    let recordSeen = 0;
    const emit = (event: string, data: unknown, id?: number) => {
      if (ended) return;
      res.write(`${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const tail = new LogTail(join(run.dir, 'log.jsonl'), (line, end) => {
      let value: LogEvent;
      try {
        value = JSON.parse(line) as LogEvent;
      } catch {
        return; // not JSON: skip it
      }
      if (typeof value?.event !== 'string' || !liveEvents.has(value.event)) return;
      emit(value.event, value, end);
      if (value.event === 'run-end') ended = true;
    }, { from }).start();
    // A record without a run-end line after `from` (the page was made just before the end, or the
    // log was cut short): say it ended once the tail has had time to catch up.
    const watchdog = setInterval(() => {
      if (ended) return;
      if (existsSync(join(run.dir, 'manifest.json')) && ++recordSeen >= 3) {
        emit('run-end', { event: 'run-end', note: 'the run has a record' });
        ended = true;
      }
    }, 1000);
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
    const stop = () => {
      tail.stop();
      clearInterval(watchdog);
      clearInterval(ping);
      streams.delete(res);
      cleanups.delete(stop);
    };
    streams.add(res);
    cleanups.add(stop);
    req.on('close', stop);
  }

  async function table(req: IncomingMessage, res: ServerResponse, run: FoundRun & { manifest: Manifest }, query: URLSearchParams): Promise<void> {
    const output = query.get('output') ?? '';
    const offset = wholeNumber(query.get('offset'), 0, 'offset');
    const limit = Math.min(wholeNumber(query.get('limit'), 50, 'limit'), maxLimit);
    const rows = await rowsOf(run.out, run.manifest, output, offset, limit);
    if (query.get('format') === 'html') {
      return send(req, res, 200, 'text/html; charset=utf-8', tableHtmlPage(runPath(run.outIndex, run.runId), output, rows, offset, limit));
    }
    send(req, res, 200, 'application/json; charset=utf-8', JSON.stringify({ output, offset, limit, ...rows }));
  }

  async function output(req: IncomingMessage, res: ServerResponse, run: FoundRun & { manifest: Manifest }, query: URLSearchParams): Promise<void> {
    const path = query.get('path') ?? '';
    const file = outputFile(run.out, run.manifest, path);
    sendFile(req, res, file, 'application/octet-stream', basename(path));
  }

  async function report(req: IncomingMessage, res: ServerResponse, run: FoundRun & { manifest: Manifest }): Promise<void> {
    const record: RunRecord = { runId: run.runId, dir: run.dir, manifest: run.manifest };
    const path = join(run.dir, 'report.html');
    let html: string;
    if (isPlainFile(path)) html = await readFile(path, 'utf8');
    else {
      // Written beside the record, as `quiver report` would; a read-only folder gets it unsaved.
      html = await writeReportFile(record, undefined, run.out).then((p) => readFile(p, 'utf8'), () => reportOf(record, run.out));
    }
    send(req, res, 200, 'text/html; charset=utf-8', html, { 'Content-Security-Policy': reportCsp });
  }

  async function crate(req: IncomingMessage, res: ServerResponse, run: FoundRun & { manifest: Manifest }, zip: boolean): Promise<void> {
    // Only outputs that lie inside the out folder go near the crate (a record could name any path).
    const outputs = (run.manifest.outputs ?? []).filter((o) => {
      try {
        return !!outputFile(run.out, run.manifest, o.path);
      } catch {
        return false;
      }
    });
    const record: RunRecord = { runId: run.runId, dir: run.dir, manifest: { ...run.manifest, outputs } };
    if (zip) {
      const bytes = (run.manifest.outputs ?? []).reduce((n, o) => n + (o.bytes ?? 0), 0);
      if (bytes > maxZipBytes) throw new HttpError(400, `the outputs of run ${run.runId} are too large to zip here; use quiver export ${run.runId} --to DEST`);
    }
    const temp = await mkdtemp(join(tmpdir(), 'quiver-serve-crate-'));
    try {
      const dest = join(temp, 'crate');
      const result = await exportRunCrate(record, dest);
      const name = `${run.manifest.workflow?.name ?? 'run'}-${run.runId}`.replace(/[^A-Za-z0-9._-]/g, '_');
      if (!zip) {
        const metadata = await readFile(join(dest, 'ro-crate-metadata.json'));
        return send(req, res, 200, 'application/ld+json; charset=utf-8', metadata, { 'Content-Disposition': `attachment; filename="${name}-ro-crate-metadata.json"` });
      }
      const files = await Promise.all([...new Set(['ro-crate-metadata.json', ...result.files])].map(async (f) => ({ name: `${name}/${f}`, data: await readFile(join(dest, f)) })));
      send(req, res, 200, 'application/zip', zipFiles(files), { 'Content-Disposition': `attachment; filename="${name}-ro-crate.zip"` });
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
  }

  /** A file right in the run folder (manifest.json, log.jsonl, report.html, …), never a link. */
  async function recordFile(req: IncomingMessage, res: ServerResponse, run: FoundRun, name: string): Promise<void> {
    if (!recordFiles(run.dir).includes(name)) throw new HttpError(404, `run ${run.runId} has no file '${name}'`);
    const type = name.endsWith('.json') ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8';
    sendFile(req, res, join(run.dir, name), type);
  }

  const listening = await new Promise<AddressInfo>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8470, host, () => resolveListen(server.address() as AddressInfo));
  });
  const shown = listening.family === 'IPv6' ? `[${listening.address}]` : listening.address;
  return {
    url: `http://${shown}:${listening.port}/`,
    port: listening.port,
    close: () => new Promise<void>((done) => {
      for (const stop of [...cleanups]) stop();
      for (const res of streams) res.end();
      server.close(() => done());
      server.closeAllConnections();
    }),
  };
}

const securityHeaders = {
  'Content-Security-Policy': csp,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

function send(req: IncomingMessage, res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, { ...securityHeaders, 'Cache-Control': 'no-store', 'Content-Type': type, 'Content-Length': String(bytes.length), ...extra });
  res.end(req.method === 'HEAD' ? undefined : bytes);
}

function sendFile(req: IncomingMessage, res: ServerResponse, file: string, type: string, download?: string): void {
  const size = statSync(file).size;
  const disposition = download ? { 'Content-Disposition': `attachment; filename="${download.replace(/[^A-Za-z0-9._-]/g, '_')}"` } : {};
  res.writeHead(200, { ...securityHeaders, 'Cache-Control': 'no-store', 'Content-Type': type, 'Content-Length': String(size), ...disposition });
  if (req.method === 'HEAD') return void res.end();
  createReadStream(file).on('error', () => res.destroy()).pipe(res);
}

/**
 * The request target as decoded path segments and the query. Refused: a target not starting with
 * '/', and any segment that decodes to '.', '..', or holds a slash, backslash or NUL (so encoded
 * traversal like %2e%2e%2f is refused, not resolved).
 */
export function parseTarget(target: string): { segments: string[]; query: URLSearchParams } {
  if (!target.startsWith('/') || target.startsWith('//')) throw new HttpError(400, 'the request target must be a path');
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  const raw = path.split('/').slice(1);
  if (raw.length > 0 && raw[raw.length - 1] === '') raw.pop(); // a trailing slash
  const segments = raw.map((s) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(s);
    } catch {
      throw new HttpError(400, 'the path is not valid percent-encoding');
    }
    if (decoded === '' || decoded === '.' || decoded === '..' || /[/\\\0]/.test(decoded)) throw new HttpError(400, 'refused path: it leaves the folders this view serves');
    return decoded;
  });
  return { segments, query: new URLSearchParams(q === -1 ? '' : target.slice(q + 1)) };
}

/** An output the record lists, resolved inside the out folder with links followed. */
function outputFile(out: string, manifest: Manifest, path: string): string {
  if (!path) throw new HttpError(400, 'which output? (output=PATH, as the record lists it)');
  if (isAbsolute(path) || path.split(/[\\/]/).some((p) => p === '..' || p === '') || path.includes('\0')) {
    throw new HttpError(400, `refused path '${path}': outputs are named as the record lists them, inside the out folder`);
  }
  if (!(manifest.outputs ?? []).some((o) => o.path === path)) throw new HttpError(404, `run ${manifest.runId} recorded no output '${path}'`);
  const real = realOrNull(join(out, path));
  if (!real) throw new HttpError(404, `output '${path}' is no longer in ${out}`);
  if (!inside(out, real)) throw new HttpError(403, `refused: output '${path}' leads outside ${out}`);
  if (!statSync(real).isFile()) throw new HttpError(404, `output '${path}' is not a file`);
  return real;
}

async function rowsOf(out: string, manifest: Manifest, path: string, offset: number, limit: number): Promise<RowsPage> {
  const file = outputFile(out, manifest, path);
  let page;
  try {
    page = await tablePage(file, offset, limit);
  } catch (error) {
    throw new HttpError(400, `${path} cannot be read as a table: ${(error as Error).message}`);
  }
  // Whatever shape the results module gives rows in: arrays in column order.
  const columns = (page.columns as unknown[]).map((c) => (typeof c === 'string' ? c : String((c as { name?: unknown })?.name ?? c)));
  const rows = (page.rows as unknown[]).map((r) => (Array.isArray(r) ? r : columns.map((c) => (r as Record<string, unknown>)[c])));
  return { columns, rows, total: page.total };
}

/** Plain files right in the run folder (no links, no temporaries). */
function recordFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isFile() && !d.name.includes('.tmp') && !d.name.startsWith('.'))
    .map((d) => d.name)
    .sort();
}

/** No record yet, and the out folder's lock names it, or its log changed in the last half minute. */
function isRunning(out: string, runId: string, dir: string): boolean {
  if (existsSync(join(dir, 'manifest.json'))) return false;
  try {
    if ((JSON.parse(readFileSync(join(out, '.quiver', 'lock'), 'utf8')) as { runId?: string }).runId === runId) return true;
  } catch {
    // no lock, or unreadable
  }
  try {
    return Date.now() - statSync(join(dir, 'log.jsonl')).mtimeMs < 30_000;
  } catch {
    return false;
  }
}

function wholeNumber(text: string | null, fallback: number, name: string): number {
  if (text === null || text === '') return fallback;
  if (!/^\d{1,12}$/.test(text)) throw new HttpError(400, `${name} must be a whole number`);
  return Number(text);
}

function realOrNull(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

function isPlainFile(path: string): boolean {
  try {
    return lstatSync(path).isFile();
  } catch {
    return false;
  }
}

/** How deep below a root out folders are looked for, and how many folders are looked at in all. */
const searchDepth = 3;
const mostFoldersSearched = 2000;

/**
 * `root` and the out folders (holding .quiver/runs) below it, nearest first. Links are not
 * followed and dot-folders skipped; an out folder's own subfolders are not searched (they hold
 * outputs, possibly thousands of them).
 */
export function outFoldersUnder(root: string): string[] {
  const found = [root];
  let searched = 0;
  const walk = (dir: string, depth: number) => {
    if (depth > searchDepth || searched >= mostFoldersSearched) return;
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (!entry.isDirectory() || entry.name.startsWith('.') || entry.name === 'node_modules' || ++searched > mostFoldersSearched) continue;
      const sub = join(dir, entry.name);
      if (existsSync(runsDir(sub))) found.push(sub);
      else walk(sub, depth + 1);
    }
  };
  walk(root, 1);
  return found;
}

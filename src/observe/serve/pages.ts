// The web view's pages as HTML text. Everything taken from a run record or log is escaped: workflow
// names, params, errors and file names may be hostile. The run page reuses the report's sections.
import type { Manifest } from '../../provenance/manifest.ts';
import type { RunEntry } from '../../provenance/runs.ts';
import { formatBytes, formatSeconds } from '../format.ts';
import {
  escapeHtml as esc, failingStages, filesSection, graphSection, graphSvg, header, layoutStages, quarantineSection,
  retriesSection, settingsSection, stagesSection, whySection, type LogEvent,
} from '../report.ts';
import type { Preview } from '../results/index.ts';

/** A table of a file's rows as the table endpoint gives them. */
export interface RowsPage {
  columns: string[];
  rows: unknown[][];
  total: number;
}

export function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<link rel="stylesheet" href="/assets/app.css">
<script src="/assets/app.js" defer></script>
</head>
<body>
<nav class="top"><a class="brand" href="/">quiver</a><a href="/">runs</a></nav>
${body}
</body>
</html>
`;
}

export function errorPage(status: number, message: string): string {
  const titles: Record<number, string> = { 400: 'Bad request', 403: 'Forbidden', 404: 'Not found', 405: 'Method not allowed', 500: 'Something went wrong' };
  const title = titles[status] ?? `Error ${status}`;
  return page(title, `<main class="error-page"><h1>${esc(title)}</h1><pre>${esc(message)}</pre><p><a href="/">All runs</a></p></main>`);
}

export const runPath = (outIndex: number, runId: string) => `/runs/${outIndex}/${encodeURIComponent(runId)}`;

export interface ListedRun {
  outIndex: number;
  out: string;
  run: RunEntry;
  /** No record, and its log changed lately: most likely still going. */
  running: boolean;
}

/** Every run of every out folder, newest first. */
export function runsPage(outs: string[], runs: ListedRun[], problems: string[]): string {
  const rows = runs.map(({ outIndex, out, run, running }) => {
    const status = running ? 'running' : run.status;
    return `<tr data-run="${esc(run.runId)}"><td><span class="status ${esc(status)}">${esc(status)}</span></td>`
      + `<td><a href="${esc(runPath(outIndex, run.runId))}">${esc(run.workflow ?? '?')}</a></td>`
      + `<td class="mono"><a href="${esc(runPath(outIndex, run.runId))}">${esc(run.runId)}</a></td>`
      + `<td>${esc(run.startedAt ? run.startedAt.slice(0, 19).replace('T', ' ') : '?')}</td>`
      + `<td class="n">${run.seconds === null ? '–' : esc(formatSeconds(run.seconds))}</td>`
      + `<td class="n">${esc(run.tasks)} / ${esc(run.cached)}</td>`
      + `<td class="n">${esc(run.outputs)}</td>`
      + (outs.length > 1 ? `<td class="mono">${esc(out)}</td>` : '')
      + `${run.error ? `<td class="muted" title="${esc(run.error)}">${esc(clip(run.error, 80))}</td>` : '<td></td>'}</tr>`;
  });
  const body = runs.length === 0
    ? `<p>No runs recorded in ${outs.map((o) => `<span class="mono">${esc(o)}</span>`).join(', ')} yet (run folders are under <span class="mono">OUT/.quiver/runs/</span>).</p>`
    : `<table class="runs"><thead><tr><th>status</th><th>workflow</th><th>run</th><th>started (UTC)</th><th class="n">duration</th><th class="n">tasks / cached</th><th class="n">outputs</th>${outs.length > 1 ? '<th>out folder</th>' : ''}<th>error</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>`;
  return page('quiver runs', `<h1>Runs</h1>
<p class="muted">Newest first, from ${outs.map((o) => `<span class="mono">${esc(o)}</span>`).join(', ')}.</p>
${problems.map((p) => `<p class="warn">${esc(p)}</p>`).join('\n')}
${body}`);
}

export interface RunPageInput {
  outIndex: number;
  runId: string;
  manifest: Manifest;
  events: LogEvent[];
  previews: Preview[] | string;
  /** First rows of each quarantine file (`_error` among their columns), or why they cannot be read. */
  quarantined: { output: string; rows: RowsPage | string }[];
  files: string[];
}

/** A finished run: the report's sections, with links, previews and paged tables. */
export function runPage(p: RunPageInput): string {
  const m = p.manifest;
  const base = runPath(p.outIndex, p.runId);
  const links = [
    `<li><a href="${esc(`${base}/report.html`)}">report.html</a></li>`,
    `<li><a href="${esc(`${base}/crate.json`)}" download>RO-Crate metadata (ro-crate-metadata.json)</a></li>`,
    `<li><a href="${esc(`${base}/crate.zip`)}" download>RO-Crate (zip)</a></li>`,
    ...p.files.map((f) => `<li><a href="${esc(`${base}/record/${encodeURIComponent(f)}`)}">${esc(f)}</a></li>`),
  ];
  const outputs = m.outputs ?? [];
  const outputRows = outputs.map((o) => `<tr><td class="mono"><a href="${esc(`${base}/output?path=${encodeURIComponent(o.path)}`)}" download>${esc(o.path)}</a></td>`
    + `<td class="mono" title="${esc(o.sha256)}">${esc(o.sha256)}</td><td class="n">${esc(formatBytes(o.bytes))}</td></tr>`);
  const results = typeof p.previews === 'string'
    ? `<p class="warn">${esc(p.previews)}</p>`
    : p.previews.filter((v) => !isQuarantine(v.output)).map((v) => previewBox(base, v)).join('\n') || '<p>No outputs to preview.</p>';
  return page(`${m.workflow?.name ?? '?'} — run ${m.runId}`, `${header(m)}
<ul class="links">${links.join('')}</ul>
<section id="results">
<h2>Results</h2>
${results}
</section>
${graphSection(m)}
${stagesSection(m)}
${whySection(m, p.events)}
${retriesSection(p.events)}
${quarantineSection(m)}
${p.quarantined.map((q) => quarantineRows(base, q)).join('\n')}
${filesSection('Inputs', m.inputs ?? [], true)}
<section>
<h2>Outputs</h2>
${outputs.length === 0 ? '<p>No outputs recorded.</p>' : `<table class="outputs"><thead><tr><th>path</th><th>sha256</th><th class="n">size</th></tr></thead><tbody>${outputRows.join('\n')}</tbody></table>`}
</section>
${settingsSection(m)}`);
}

const isQuarantine = (path: string) => path.split(/[\\/]/)[0] === '_quarantine';

function previewBox(base: string, v: Preview): string {
  const table = v.kind === 'table';
  const url = `${base}/table?output=${encodeURIComponent(v.output)}`;
  return `<section class="preview" data-output="${esc(v.output)}" data-kind="${esc(v.kind)}"${table ? ` data-table-url="${esc(url)}"` : ''}>
<h3>${esc(v.title)}${table ? ` <a class="muted" href="${esc(`${url}&format=html`)}">all rows</a>` : ''}</h3>
<div class="table-scroll">${v.html}</div>
</section>`;
}

function quarantineRows(base: string, q: { output: string; rows: RowsPage | string }): string {
  const url = `${base}/table?output=${encodeURIComponent(q.output)}`;
  const body = typeof q.rows === 'string' ? `<p class="warn">${esc(q.rows)}</p>` : rowsTable(q.rows, 0);
  return `<section class="preview quarantined-rows" data-output="${esc(q.output)}" data-table-url="${esc(url)}">
<h3>Rows set aside in ${esc(q.output)} <a class="muted" href="${esc(`${url}&format=html`)}">all rows</a></h3>
<div class="table-scroll">${body}</div>
</section>`;
}

export function rowsTable(p: RowsPage, offset: number): string {
  const cell = (v: unknown) => (v === null || v === undefined ? '<span class="muted">∅</span>' : esc(typeof v === 'object' ? JSON.stringify(v) : String(v)));
  return `<table class="preview"><thead><tr>${p.columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead>
<tbody>${p.rows.map((r) => `<tr>${r.map((v) => `<td>${cell(v)}</td>`).join('')}</tr>`).join('\n')}</tbody></table>
<p class="muted">rows ${p.total === 0 ? 0 : offset + 1}–${offset + p.rows.length} of ${esc(p.total.toLocaleString('en-US'))}</p>`;
}

/** One page of a table output, without scripts: previous and next are links. */
export function tableHtmlPage(base: string, output: string, p: RowsPage, offset: number, limit: number): string {
  const link = (at: number, text: string) => `<a href="${esc(`${base}/table?output=${encodeURIComponent(output)}&format=html&offset=${at}&limit=${limit}`)}">${text}</a>`;
  const nav = `<nav class="pager">${offset > 0 ? link(Math.max(0, offset - limit), '◀ previous') : ''} ${offset + p.rows.length < p.total ? link(offset + limit, 'next ▶') : ''}</nav>`;
  return page(`${output} — rows`, `<p><a href="${esc(base)}">◀ the run</a></p>
<h1 class="mono">${esc(output)}</h1>
${nav}
<div class="table-scroll">${rowsTable(p, offset)}</div>
${nav}`);
}

export interface LivePageInput {
  outIndex: number;
  runId: string;
  events: LogEvent[];
  /** Bytes of the log the page shows: the event stream continues from there. */
  offset: number;
  /** Whether the log still changes (else: interrupted). */
  running: boolean;
}

interface LiveStage { id: string; use: string; kind?: string; from?: string[] }
interface LiveStats { id: string; tasks: number; tasksTotal?: number; cached: number; rowsIn: number; rowsOut: number; quarantined: number }

/** A run without a record yet: the graph and counts as the log has them, kept current by app.js. */
export function livePage(p: LivePageInput): string {
  const base = runPath(p.outIndex, p.runId);
  const start = p.events.find((e) => e.event === 'run-start');
  const failed = p.events.find((e) => e.event === 'run-failed');
  const stats = [...p.events].reverse().find((e) => e.event === 'stats');
  const stages = (Array.isArray(start?.stages) ? start.stages : []) as LiveStage[];
  const counts = new Map(((stats?.stages ?? []) as LiveStats[]).map((s) => [s.id, s]));
  const name = typeof start?.workflow === 'string' ? start.workflow : '?';
  const graph = stages.length === 0 ? '<p class="muted">The run is preparing (reading and hashing its inputs, planning); the graph appears when it starts.</p>'
    : graphSvg(layoutStages(stages, new Map(stages.map((s) => [s.id, (s.from ?? []).map(String)]))), counts, failingStages(typeof failed?.error === 'string' ? failed.error : undefined), name);
  const rows = stages.map((s) => {
    const c = counts.get(s.id);
    const cell = (field: keyof LiveStats, value: string) => `<td class="n" data-field="${field}">${esc(value)}</td>`;
    return `<tr data-stage="${esc(s.id)}"><td class="mono">${esc(s.id)}</td><td class="mono">${esc(s.use)}</td><td>${esc(s.kind ?? '')}</td>`
      + cell('tasks', c ? `${c.tasks.toLocaleString('en-US')} / ${c.tasksTotal === undefined ? '?' : c.tasksTotal.toLocaleString('en-US')}` : '0 / ?')
      + cell('cached', (c?.cached ?? 0).toLocaleString('en-US')) + cell('rowsIn', (c?.rowsIn ?? 0).toLocaleString('en-US'))
      + cell('rowsOut', (c?.rowsOut ?? 0).toLocaleString('en-US')) + cell('quarantined', (c?.quarantined ?? 0).toLocaleString('en-US')) + '</tr>';
  });
  const retries = p.events.filter((e) => e.event === 'retry').length;
  const status = p.running ? 'running' : 'interrupted';
  return page(`${name} — run ${p.runId} (${status})`, `<header>
<h1>${esc(name)}</h1>
<dl class="meta"><dt>run</dt><dd class="mono">${esc(p.runId)}</dd><dt>status</dt><dd><span class="status ${status}" id="live-state">${status}</span></dd>
<dt>started</dt><dd>${esc(start?.time ?? '?')}</dd><dt>updates</dt><dd id="live-updates">0</dd></dl>
</header>
<div data-live-events="${esc(`${base}/events?from=${p.offset}`)}">
<p class="live-note">${p.running ? 'This run has no record yet: it is still going. Counts follow its log; the page shows the finished run when it ends.' : 'This run has no record and its log has not changed for a while: it was interrupted (killed), or is stalled.'}</p>
${failed ? `<pre class="error">${esc(failed.error ?? '')}</pre>` : ''}
<section><h2>Stage graph</h2>
${graph}
</section>
<section><h2>Stages</h2>
<table class="live-stages"><thead><tr><th>stage</th><th>use</th><th>kind</th><th class="n">tasks</th><th class="n">cached</th><th class="n">rows in</th><th class="n">rows out</th><th class="n">quarantined</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>
${retries ? `<p class="warn">${retries} task attempt(s) failed and were retried so far.</p>` : ''}
</section>
</div>`);
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

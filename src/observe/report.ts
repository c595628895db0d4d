// The run report (`quiver report RUN`): one run's record and log as a single HTML page that needs
// nothing else — no scripts, no external CSS, fonts or images — so it can be mailed, archived
// beside the outputs, opened offline years later, and printed.
import { parse as parseYaml } from 'yaml';
import type { Manifest } from '../provenance/manifest.ts';
import { topologicalOrder } from '../workflow/graph.ts';
import { inputsOf, type StageSpec } from '../workflow/types.ts';
import type { StageStats } from '../provenance/stage-stats.ts';
import { formatBytes, formatSeconds } from './format.ts';
import type { Preview } from './results/types.ts';

/** One line of a run's log.jsonl (pino): the fields the report reads, and whatever else it has. */
export interface LogEvent {
  event?: string;
  time?: string;
  [field: string]: unknown;
}

/** Lines that are not JSON (a log torn by a kill) are left out rather than failing the report. */
export function parseRunLog(text: string): LogEvent[] {
  const events: LogEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const value = JSON.parse(line);
      if (value && typeof value === 'object') events.push(value as LogEvent);
    } catch {
      // a torn last line: skip it
    }
  }
  return events;
}

/** Text for HTML, in element content and in quoted attributes alike. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
const esc = escapeHtml;

/** Rows of long lists shown before "and N more": a 10,000-partition run still gives a readable page. */
const maxRows = 500;

/**
 * The whole report for one run: `logText` is the run's log.jsonl ('' when it has none); `previews`
 * its outputs drawn (src/observe/results, read before: this stays a pure function of its arguments).
 */
export function renderReport(manifest: Manifest, logText = '', previews: Preview[] = []): string {
  const events = parseRunLog(logText);
  const m = manifest;
  const title = `${m.workflow?.name ?? '?'} — run ${m.runId}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title>
<style>${reportCss}</style>
</head>
<body>
${header(m)}
${resultsSection(previews)}
${graphSection(m)}
${stagesSection(m)}
${whySection(m, events)}
${retriesSection(events)}
${quarantineSection(m)}
${filesSection('Inputs', m.inputs ?? [], true)}
${filesSection('Outputs', m.outputs ?? [], false)}
${settingsSection(m)}
<footer>Written by quiver ${esc(m.runtime?.quiver ?? '')} from ${esc(`.quiver/runs/${m.runId}/`)} (manifest.json and log.jsonl).</footer>
</body>
</html>
`;
}

// Kept small and print-aware: colours that carry meaning (bars, status) are printed too.
export const reportCss = `
:root { color-scheme: light; --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --muted: #57606a; --line: #d0d7de; --accent: #0969da; }
* { box-sizing: border-box; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #1f2328; margin: 2em auto; max-width: 72em; padding: 0 1.5em; }
h1 { font-size: 1.6em; margin: 0 0 .2em; } h2 { font-size: 1.15em; margin: 1.8em 0 .5em; border-bottom: 1px solid var(--line); padding-bottom: .2em; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .92em; }
pre { background: #f6f8fa; border: 1px solid var(--line); padding: .7em; overflow-x: auto; white-space: pre-wrap; word-break: break-word; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .25em .6em; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; } td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
thead { display: table-header-group; } tr { break-inside: avoid; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .1em 1em; margin: .8em 0; } dl.meta dt { color: var(--muted); } dl.meta dd { margin: 0; }
.status { display: inline-block; padding: .05em .6em; border-radius: 1em; color: #fff; font-weight: 600; }
.status.ok { background: var(--ok); } .status.failed { background: var(--bad); }
pre.error { border-color: var(--bad); background: #ffebe9; }
.bar { display: inline-block; height: .8em; background: var(--accent); border-radius: 2px; vertical-align: middle; min-width: 1px; }
.barcell { width: 8em; } .muted { color: var(--muted); } .warn { color: var(--warn); }
svg.graph { max-width: 100%; height: auto; display: block; margin: .5em 0; }
svg.graph rect { fill: #fff; stroke: #8c959f; stroke-width: 1.2; } svg.graph .cached rect { fill: #f6f8fa; }
svg.graph .quarantined rect { stroke: var(--warn); stroke-width: 2; } svg.graph .failed rect { stroke: var(--bad); stroke-width: 2.5; fill: #ffebe9; }
svg.graph text { font: 12px system-ui, sans-serif; fill: #1f2328; } svg.graph text.id { font-weight: 600; font-size: 13px; } svg.graph text.small { fill: var(--muted); font-size: 11px; }
svg.graph path.edge { fill: none; stroke: #8c959f; stroke-width: 1.3; } svg.graph marker path { fill: #8c959f; }
section.results figure { margin: .4em 0; } section.results figcaption { font-size: .88em; margin-top: .2em; }
section.results h3 { font-size: 1em; margin: 1.2em 0 .3em; } .preview-row { display: flex; flex-wrap: wrap; gap: 1em; }
svg.chart, svg.picture { max-width: 100%; height: auto; display: block; } .table-scroll { overflow-x: auto; }
table.preview td, table.preview th { white-space: nowrap; } .preview-error { color: var(--bad); }
footer { margin-top: 3em; color: var(--muted); font-size: .85em; }
@page { margin: 1.5cm; }
@media print { body { margin: 0; max-width: none; padding: 0; font-size: 11px; } h2 { break-after: avoid; } svg.graph, pre { break-inside: avoid; } }
`;

export function header(m: Manifest): string {
  const seconds = (Date.parse(m.endedAt) - Date.parse(m.startedAt)) / 1000;
  const rt = m.runtime;
  const rows: [string, string][] = [
    ['run', `<span class="mono">${esc(m.runId)}</span>`],
    ['status', `<span class="status ${m.status === 'ok' ? 'ok' : 'failed'}">${esc(m.status)}</span>`],
    ['started', esc(m.startedAt)],
    ['ended', esc(m.endedAt)],
    ['duration', Number.isFinite(seconds) ? esc(formatSeconds(seconds)) : '?'],
    ['workflow file', `<span class="mono">${esc(m.workflow?.file ?? '?')}</span> <span class="muted mono" title="${esc(m.workflow?.sha256 ?? '')}">sha256 ${esc(short(m.workflow?.sha256))}</span>`],
    ['executor', esc(m.executor ? `${m.executor.kind}, ${m.executor.workers} worker(s)` : '?')],
    ['cache', m.cache === false ? 'off (--no-cache)' : 'on'],
    ['runtime', rt ? esc(`quiver ${rt.quiver} · Node.js ${rt.node} · ${rt.platform} ${rt.arch} ${rt.osRelease} · ${rt.cpus} × ${rt.cpu}`) : '?'],
  ];
  return `<header>
<h1>${esc(m.workflow?.name ?? '?')}</h1>
<dl class="meta">${rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>
${m.error !== undefined ? `<pre class="error">${esc(m.error)}</pre>` : ''}
</header>`;
}

/** The run's results, drawn: named ones first (as the workflow's `results:` lists them), then other outputs. */
export function resultsSection(previews: Preview[]): string {
  if (previews.length === 0) return '';
  const items = previews.map((p) => `<div class="result" data-output="${esc(p.output)}" data-kind="${esc(p.kind)}">
<h3>${esc(p.title)}${p.title !== p.output ? ` <span class="muted mono">${esc(p.output)}</span>` : ''}</h3>
${p.html}
</div>`);
  return `<section class="results">\n<h2>Results</h2>\n${items.join('\n')}\n</section>`;
}

export interface GraphNode { id: string; use: string; inputs: string[]; layer: number; row: number }

/**
 * Stages and their `from` edges, laid out in layers left to right: a stage's layer is one past its
 * furthest input, and within a layer stages sit near the mean row of their inputs (fewer crossings).
 * Edges come from the workflow text the record keeps; if it cannot be read, the boxes still show.
 */
export function layoutGraph(m: Manifest): GraphNode[] {
  const fromById = new Map<string, string[]>();
  try {
    const spec = parseYaml(m.workflow?.text ?? '') as { stages?: StageSpec[] } | null;
    for (const s of spec?.stages ?? []) if (s && typeof s.id === 'string') fromById.set(s.id, inputsOf(s).map(String));
  } catch {
    // unreadable text: no edges
  }
  return layoutStages(m.stages ?? [], fromById);
}

/** The same layout from stage ids, uses and each stage's inputs (a run's log names them before its record exists). */
export function layoutStages(stages: { id: string; use: string }[], fromById: Map<string, string[]>): GraphNode[] {
  const known = new Set(stages.map((s) => s.id));
  const specs = stages.map((s) => ({ id: s.id, use: s.use, from: (fromById.get(s.id) ?? []).filter((i) => known.has(i)) }));
  const order = topologicalOrder(specs);
  const byId = new Map(specs.map((s) => [s.id, s]));
  const nodes = new Map<string, GraphNode>();
  for (const id of order) {
    const s = byId.get(id)!;
    const layer = s.from.length ? 1 + Math.max(...s.from.map((i) => nodes.get(i)?.layer ?? 0)) : 0;
    nodes.set(id, { id, use: s.use, inputs: s.from, layer, row: 0 });
  }
  const layers: GraphNode[][] = [];
  for (const n of nodes.values()) (layers[n.layer] ??= []).push(n);
  for (const layer of layers) {
    // Topological order already breaks ties; the sort is stable.
    const mean = (n: GraphNode) => (n.inputs.length ? n.inputs.reduce((a, i) => a + nodes.get(i)!.row, 0) / n.inputs.length : 0);
    if (layer[0].layer > 0) layer.sort((a, b) => mean(a) - mean(b));
    // A stage sits level with its inputs where that row is free, so a chain draws as a straight line.
    let next = 0;
    for (const n of layer) next = (n.row = Math.max(next, Math.round(mean(n)))) + 1;
  }
  return [...nodes.values()];
}

export function graphSection(m: Manifest): string {
  const nodes = layoutGraph(m);
  if (nodes.length === 0) return '';
  const stats = new Map((m.stages ?? []).map((s) => [s.id, s.stats]));
  return `<section>
<h2>Stage graph</h2>
${graphSvg(nodes, stats, failingStages(m.error), m.workflow?.name ?? '')}
<p class="muted">Grey: every task from the cache. Amber border: rows quarantined or skipped. Red: named by the run's error.</p>
</section>`;
}

type GraphStats = Pick<StageStats, 'tasks' | 'cached' | 'quarantined'>;

/** The stage graph as an SVG element: one box per stage (`data-stage` its id), edges from each input. */
export function graphSvg(nodes: GraphNode[], stats: Map<string, GraphStats | undefined>, failing: Set<string>, name: string): string {
  const W = 180, H = 60, gapX = 56, gapY = 22, pad = 8;
  const x = (n: GraphNode) => pad + n.layer * (W + gapX);
  const y = (n: GraphNode) => pad + n.row * (H + gapY);
  const width = pad * 2 + (Math.max(...nodes.map((n) => n.layer)) + 1) * (W + gapX) - gapX;
  const height = pad * 2 + (Math.max(...nodes.map((n) => n.row)) + 1) * (H + gapY) - gapY;
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const edges = nodes.flatMap((n) => n.inputs.map((i) => {
    const from = byId.get(i)!;
    const [x1, y1, x2, y2] = [x(from) + W, y(from) + H / 2, x(n) - 2, y(n) + H / 2];
    const mid = (x1 + x2) / 2;
    return `<path class="edge" d="M${x1} ${y1} C${mid} ${y1} ${mid} ${y2} ${x2} ${y2}" marker-end="url(#arrow)"><title>${esc(`${i} → ${n.id}`)}</title></path>`;
  }));
  const boxes = nodes.map((n) => {
    const s = stats.get(n.id);
    const classes = ['node'];
    if (s && s.tasks > 0 && s.cached === s.tasks) classes.push('cached');
    if (s && s.quarantined > 0) classes.push('quarantined');
    if (failing.has(n.id)) classes.push('failed');
    const counts = s ? `${s.tasks} tasks · ${s.cached} cached${s.quarantined ? ` · ${s.quarantined} quarantined` : ''}` : '';
    return `<g class="${classes.join(' ')}" data-stage="${esc(n.id)}" transform="translate(${x(n)} ${y(n)})">`
      + `<title>${esc(`${n.id} (${n.use})\n${counts}`)}</title>`
      + `<rect width="${W}" height="${H}" rx="6"/>`
      + `<text class="id" x="10" y="19">${esc(clip(n.id, 22))}</text>`
      + `<text class="small" x="10" y="35">${esc(clip(n.use, 26))}</text>`
      + `<text class="counts" x="10" y="51">${esc(s ? `${s.tasks} task${s.tasks === 1 ? '' : 's'} / ${s.cached} cached` : '')}</text></g>`;
  });
  return `<svg class="graph" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(`stage graph of ${name}`)}">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0 0 L10 5 L0 10 z"/></marker></defs>
${edges.join('\n')}
${boxes.join('\n')}
</svg>`;
}

/** Stage ids a failure names: errors say `stage 'id'`, or `stage 'a+b'` for a fused segment. */
export function failingStages(error: string | undefined): Set<string> {
  const ids = new Set<string>();
  for (const match of (error ?? '').matchAll(/stage '([^']+)'/g)) for (const id of match[1].split('+')) ids.add(id);
  return ids;
}

export function stagesSection(m: Manifest): string {
  const stages = m.stages ?? [];
  if (stages.length === 0) return '';
  const longest = Math.max(...stages.map((s) => s.stats?.seconds ?? 0));
  const rows = stages.map((s) => {
    const st = s.stats ?? { tasks: 0, cached: 0, rowsIn: 0, rowsOut: 0, quarantined: 0, seconds: 0 };
    const share = longest > 0 ? (st.seconds / longest) * 100 : 0;
    return `<tr data-stage="${esc(s.id)}"><td class="mono">${esc(s.id)}</td><td class="mono">${esc(s.use)}</td><td>${esc(s.kind)}</td><td>${esc(s.version)}</td>`
      + `<td class="n">${num(st.tasks)}</td><td class="n">${num(st.cached)}</td><td class="n">${num(st.rowsIn)}</td><td class="n">${num(st.rowsOut)}</td>`
      + `<td class="n${st.quarantined ? ' warn' : ''}">${num(st.quarantined)}</td><td class="n">${esc(formatSeconds(st.seconds))}</td>`
      + `<td class="barcell"><span class="bar" style="width:${share.toFixed(1)}%"></span></td></tr>`;
  });
  return `<section>
<h2>Stages</h2>
<table><thead><tr><th>stage</th><th>use</th><th>kind</th><th>version</th><th class="n">tasks</th><th class="n">cached</th><th class="n">rows in</th><th class="n">rows out</th><th class="n">quarantined</th><th class="n">time</th><th>time (bar)</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>
<p class="muted">Time is spent in each stage's own code, summed over workers.</p>
</section>`;
}

export function whySection(m: Manifest, events: LogEvent[]): string {
  const reasons = events.filter((e) => e.event === 'task-reason');
  const tasks = m.tasks ?? [];
  const count = (status: string) => tasks.filter((t) => t.status === status).length;
  const summary = `${count('computed')} task(s) computed, ${count('cached')} from the cache, ${count('skipped')} not needed.`;
  const reasonTable = reasons.length === 0
    ? '<p>No task-reason lines in the log: nothing needed computing, or the log is missing.</p>'
    : table(['task', 'why it ran'], reasons.map((e) => [`<span class="mono">${esc(e.task)}</span>`, esc(e.reason)]));
  const taskTable = tasks.length === 0 ? '' : `<details><summary>Every task and its cache key (${tasks.length})</summary>
${table(['stage', 'partition', 'status', 'key'], tasks.map((t) => [esc(t.stage), `<span class="mono">${esc(t.partition)}</span>`, esc(t.status), hash(t.key)]))}
</details>`;
  return `<section>
<h2>Why tasks ran</h2>
<p>${esc(summary)}</p>
${reasonTable}
${taskTable}
</section>`;
}

export function retriesSection(events: LogEvent[]): string {
  const retries = events.filter((e) => e.event === 'retry');
  const body = retries.length === 0
    ? '<p>No task was retried.</p>'
    : table(['time', 'stages', 'partitions', 'attempt', 'cause'], retries.map((e) => [
      esc(e.time ?? ''), `<span class="mono">${esc(list(e.stages, '+'))}</span>`, `<span class="mono">${esc(list(e.partitions, ', '))}</span>`,
      esc(e.attempt ?? ''), esc(e.cause ?? ''),
    ]));
  return `<section>\n<h2>Retries</h2>\n${body}\n</section>`;
}

export function quarantineSection(m: Manifest): string {
  const stats = new Map((m.stages ?? []).map((s) => [s.id, s.stats]));
  // OUT/_quarantine/STAGE.parquet (DESIGN.md §4): the file's name is the stage id.
  const files = (m.outputs ?? []).filter((o) => o.path.split(/[\\/]/)[0] === '_quarantine');
  const written = new Set<string>();
  const rows = files.map((o) => {
    const stage = o.path.split(/[\\/]/).pop()!.replace(/\.[^.]*$/, '');
    written.add(stage);
    const n = stats.get(stage)?.quarantined;
    return [`<span class="mono">${esc(o.path)}</span>`, esc(stage), n === undefined ? '?' : num(n), hash(o.sha256), esc(formatBytes(o.bytes))];
  });
  // Stages with onError: skip set rows aside too, but write no file: say so rather than hide them.
  for (const s of m.stages ?? []) {
    if ((s.stats?.quarantined ?? 0) > 0 && !written.has(s.id)) rows.push(['<span class="muted">(not written: skipped)</span>', esc(s.id), num(s.stats.quarantined), '', '']);
  }
  const body = rows.length === 0 ? '<p>No rows were quarantined or skipped.</p>' : table(['file', 'stage', 'rows', 'sha256', 'size'], rows, [2, 4]);
  return `<section>\n<h2>Quarantine</h2>\n${body}\n</section>`;
}

export function filesSection(title: string, files: { stage?: string; path: string; sha256?: string; bytes?: number; modified?: string }[], inputs: boolean): string {
  let body: string;
  if (files.length === 0) body = `<p>No ${title.toLowerCase()} recorded${inputs ? ' (generated data reads no files)' : ''}.</p>`;
  else if (inputs) {
    body = table(['stage', 'path', 'sha256', 'size', 'modified'], files.map((f) => [
      esc(f.stage ?? ''), `<span class="mono">${esc(f.path)}</span>`, hash(f.sha256), f.bytes === undefined ? '' : esc(formatBytes(f.bytes)), esc(f.modified ?? ''),
    ]), [3]);
  } else {
    body = table(['path', 'sha256', 'size'], files.map((f) => [
      `<span class="mono">${esc(f.path)}</span>`, hash(f.sha256), f.bytes === undefined ? '' : esc(formatBytes(f.bytes)),
    ]), [2]);
  }
  return `<section>\n<h2>${title}</h2>\n${body}\n</section>`;
}

export function settingsSection(m: Manifest): string {
  // Params and seeds as JSON, so a string "1" and a number 1 look different; versions as they are.
  const pairs = (o: Record<string, unknown> | undefined, what: string, head = 'value', show = (v: unknown) => JSON.stringify(v)) => {
    const entries = Object.entries(o ?? {});
    return entries.length === 0 ? `<p>No ${what}.</p>` : table(['name', head], entries.map(([k, v]) => [`<span class="mono">${esc(k)}</span>`, `<span class="mono">${esc(show(v))}</span>`]));
  };
  return `<section>
<h2>Params</h2>
${pairs(m.params, 'params')}
<p class="muted">Values of secret-looking params were redacted when the run was recorded.</p>
<h2>Seeds</h2>
${pairs(m.seeds, 'seed params')}
<h2>Packages</h2>
${pairs(m.packages, 'package versions recorded', 'version', String)}
<h2>Workflow text</h2>
<pre>${esc(m.workflow?.text ?? '')}</pre>
</section>`;
}

/** A table of cells already escaped; `numeric` columns are right-aligned. */
function table(head: string[], rows: string[][], numeric: number[] = []): string {
  const cls = (i: number) => (numeric.includes(i) ? ' class="n"' : '');
  const shown = rows.slice(0, maxRows);
  const more = rows.length > maxRows ? `<p class="muted">… and ${rows.length - maxRows} more (see the run record).</p>` : '';
  return `<table><thead><tr>${head.map((h, i) => `<th${cls(i)}>${esc(h)}</th>`).join('')}</tr></thead>
<tbody>
${shown.map((r) => `<tr>${r.map((c, i) => `<td${cls(i)}>${c}</td>`).join('')}</tr>`).join('\n')}
</tbody></table>${more}`;
}

/** A hash shortened for reading, the full one in the title (hover, or copy from the source). */
function hash(value: string | undefined): string {
  if (!value) return '<span class="muted">—</span>';
  return `<span class="mono" title="${esc(value)}">${esc(short(value))}</span>`;
}

const short = (h: string | undefined) => (h ? (h.length > 12 ? `${h.slice(0, 12)}…` : h) : '');
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const num = (n: number) => esc((n ?? 0).toLocaleString('en-US'));
const list = (v: unknown, sep: string) => (Array.isArray(v) ? v.join(sep) : String(v ?? ''));

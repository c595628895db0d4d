// The web view's only stylesheet and script, served from here (/assets/app.css, /assets/app.js):
// nothing is fetched from elsewhere, and the page's CSP allows scripts from this server only.
import { reportCss } from '../report.ts';

export const appCss = `${reportCss}
body { max-width: 84em; }
nav.top { display: flex; gap: 1.2em; align-items: baseline; border-bottom: 1px solid var(--line); padding-bottom: .5em; margin-bottom: 1em; }
nav.top a { color: var(--accent); text-decoration: none; } nav.top .brand { font-weight: 700; color: #1f2328; }
a { color: var(--accent); }
table.runs td:nth-child(3), table.runs td:nth-child(4), table.runs td.n { white-space: nowrap; } table.runs td:nth-child(2) { word-break: break-word; }
.status.interrupted, .status.running { background: var(--accent); } .status.interrupted { background: var(--warn); }
ul.links { display: flex; flex-wrap: wrap; gap: .4em 1.4em; padding: 0; list-style: none; }
svg.graph .running rect { stroke: var(--accent); stroke-width: 2.5; } svg.graph .done rect { stroke: var(--ok); stroke-width: 2; }
.live-note { border-left: 4px solid var(--accent); background: #ddf4ff; padding: .4em .8em; }
section.preview { margin: 1em 0 2em; } section.preview h3 { font-size: 1em; margin: .4em 0; font-family: ui-monospace, monospace; }
table.preview td { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; white-space: nowrap; max-width: 24em; overflow: hidden; text-overflow: ellipsis; }
.table-scroll { overflow-x: auto; }
nav.pager { display: flex; gap: .8em; align-items: center; margin: .3em 0; }
nav.pager button { font: inherit; padding: .1em .8em; }
.error-page pre { border-color: var(--bad); background: #ffebe9; }
`;

// Plain ES2020, no framework. Everything from the server is put in the page as text, never as HTML.
export const appJs = `'use strict';
(() => {
  const fmt = (n) => (typeof n === 'number' ? n.toLocaleString('en-US') : String(n == null ? '' : n));
  const byStage = (selector, id) => [...document.querySelectorAll(selector)].filter((el) => el.getAttribute('data-stage') === id);

  // The runs list while a run is going: look again every few seconds.
  if (document.querySelector('table.runs .status.running')) setTimeout(() => location.reload(), 5000);

  // Live runs: the server tails the run's log as server-sent events.
  const live = document.querySelector('[data-live-events]');
  if (live) {
    const source = new EventSource(live.getAttribute('data-live-events'));
    const state = document.getElementById('live-state');
    const updates = document.getElementById('live-updates');
    let count = 0;
    source.addEventListener('stats', (e) => {
      const stats = JSON.parse(e.data);
      for (const s of stats.stages || []) {
        for (const g of byStage('svg.graph g.node', s.id)) {
          const total = s.tasksTotal == null ? '?' : s.tasksTotal;
          const counts = g.querySelector('text.counts');
          if (counts) counts.textContent = s.tasks + '/' + total + ' tasks / ' + s.cached + ' cached';
          const done = s.tasksTotal != null && s.tasks >= s.tasksTotal;
          g.classList.toggle('done', done);
          g.classList.toggle('running', !done && s.tasks > 0);
          g.classList.toggle('cached', s.tasks > 0 && s.cached === s.tasks);
          g.classList.toggle('quarantined', s.quarantined > 0);
        }
        for (const row of byStage('tr[data-stage]', s.id)) {
          for (const cell of row.querySelectorAll('[data-field]')) {
            const field = cell.getAttribute('data-field');
            cell.textContent = field === 'tasks' ? fmt(s.tasks) + ' / ' + (s.tasksTotal == null ? '?' : fmt(s.tasksTotal)) : fmt(s[field]);
          }
        }
      }
      count += 1;
      if (updates) updates.textContent = String(count);
      if (state) state.textContent = 'running';
    });
    const finish = () => { source.close(); location.reload(); };
    // Before run-start the page has no graph: reload to draw it. Run-end: the record is written, show it.
    source.addEventListener('run-start', () => { if (!document.querySelector('svg.graph')) finish(); });
    source.addEventListener('run-end', finish);
    source.addEventListener('run-failed', () => { if (state) state.textContent = 'failing'; });
  }

  // Paged tables: the first rows are in the page; more come as JSON from the table endpoint.
  for (const box of document.querySelectorAll('[data-table-url]')) {
    const url = box.getAttribute('data-table-url');
    const limit = Number(box.getAttribute('data-limit')) || 20;
    // The preview shows the first rows: the next page starts after them.
    let offset = 0;
    let shown = box.querySelectorAll('.table-scroll tbody tr').length;
    const nav = document.createElement('nav');
    nav.className = 'pager';
    const prev = document.createElement('button');
    prev.type = 'button'; prev.textContent = '◀ previous'; prev.className = 'prev';
    const next = document.createElement('button');
    next.type = 'button'; next.textContent = 'next ▶'; next.className = 'next';
    const where = document.createElement('span');
    where.className = 'where muted';
    nav.append(prev, next, where);
    const heading = box.querySelector('h3');
    if (heading) heading.after(nav); else box.prepend(nav);
    const show = async (at) => {
      const res = await fetch(url + '&format=json&limit=' + limit + '&offset=' + at, { headers: { accept: 'application/json' } });
      if (!res.ok) { where.textContent = 'cannot read rows: ' + res.status; return; }
      const page = await res.json();
      if (page.rows.length === 0 && at > 0) { next.disabled = true; where.textContent = 'no rows after ' + fmt(at); return; }
      offset = at;
      shown = page.rows.length;
      const table = document.createElement('table');
      table.className = 'preview';
      const head = table.createTHead().insertRow();
      for (const c of page.columns) { const th = document.createElement('th'); th.textContent = c; head.append(th); }
      const body = table.createTBody();
      for (const r of page.rows) {
        const tr = body.insertRow();
        for (const v of r) {
          const td = tr.insertCell();
          td.textContent = v === null ? '∅' : typeof v === 'object' ? JSON.stringify(v) : String(v);
          if (typeof v === 'number') td.className = 'n';
        }
      }
      box.querySelector('.table-scroll').replaceChildren(table);
      where.textContent = 'rows ' + (page.total === 0 ? 0 : at + 1) + '–' + (at + page.rows.length) + ' of ' + fmt(page.total);
      prev.disabled = at === 0;
      next.disabled = at + page.rows.length >= page.total;
      box.setAttribute('data-offset', String(at));
    };
    prev.addEventListener('click', () => show(Math.max(0, offset - limit)));
    next.addEventListener('click', () => show(offset + shown));
    prev.disabled = true;
  }
})();
`;

// HTML pieces previews share: escaping, a cell for any plain value, a table of rows, an error line.

/** Text for HTML, in element content and in quoted attributes alike. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
const esc = escapeHtml;

/** Numbers to 6 significant digits, objects as JSON, long text cut to 60 characters. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '∅';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(+value.toPrecision(6));
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}

export function rowsTable(columns: { name: string; type: string }[], rows: Record<string, unknown>[]): string {
  const numeric = (t: string) => /^(u?int|float|decimal)/.test(t);
  const cls = (t: string) => (numeric(t) ? ' class="n"' : '');
  const head = columns.map((c) => `<th${cls(c.type)} title="${esc(c.type)}">${esc(c.name)}</th>`).join('');
  const body = rows.map((r) => `<tr>${columns.map((c) => `<td${cls(c.type)}>${esc(cellText(r[c.name]))}</td>`).join('')}</tr>`).join('\n');
  return `<div class="table-scroll"><table class="preview"><thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table></div>`;
}

/** What went wrong with one output, in place of its preview. */
export const errorHtml = (message: string): string => `<p class="preview-error">Cannot preview: ${esc(message)}</p>`;

export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

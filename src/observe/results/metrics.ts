// Metrics previews: a small table of scores (TSS, Dice, MAE, …), one row per model or label,
// numbers to four significant digits, the label column first.
import { Type } from 'apache-arrow';
import type { ResultShow } from '../../workflow/results.ts';
import { previewRows } from '../preview.ts';
import { requireColumns } from './columns.ts';
import { escapeHtml as esc } from './html.ts';
import { firstBatches, openOutput } from './read-output.ts';

type MetricsShow = Extract<ResultShow, { kind: 'metrics' }>;

const numericTypes = new Set([Type.Int, Type.Float, Type.Decimal]);

export async function metricsPreviewHtml(file: string, show: MetricsShow, maxRows = 50): Promise<string> {
  const open = await openOutput(file);
  const fields = open.schema.fields;
  requireColumns(open.schema, [...(show.label ? [show.label] : []), ...(show.columns ?? [])], file.split('/').pop()!);
  const label = show.label ?? fields.find((f) => !numericTypes.has(f.type.typeId) && !f.name.startsWith('_'))?.name;
  const columns = show.columns ?? fields.filter((f) => numericTypes.has(f.type.typeId) && f.name !== label).map((f) => f.name);
  const first = await firstBatches(open, maxRows);
  const rows = first.batches.flatMap((b) => previewRows(b, maxRows)).slice(0, maxRows);
  const fmt = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : String(+v.toPrecision(4))) : v === null ? '∅' : String(v));
  const head = `${label ? `<th>${esc(label)}</th>` : ''}${columns.map((c) => `<th class="n">${esc(c)}</th>`).join('')}`;
  const body = rows.map((r) => `<tr>${label ? `<td>${esc(fmt(r[label]))}</td>` : ''}${columns.map((c) => `<td class="n">${esc(fmt(r[c]))}</td>`).join('')}</tr>`).join('\n');
  const more = first.more ? `<p class="muted">The first ${rows.length} rows.</p>` : '';
  return `<div class="table-scroll"><table class="preview metrics"><thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table></div>${more}`;
}

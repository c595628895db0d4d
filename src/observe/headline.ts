// A result's headline: what `quiver run` prints after a run, in one or two lines, so that the person
// who ran it sees what was found without opening a file: the workflow, the result's title, and the
// named columns of its first rows, numbers to 4 significant digits.
//   goes-flares → Flares: M2.5 start 06:16 peak 06:41 end 06:59 peak flux 2.5e-5
import { Type, type DataType, type Field } from 'apache-arrow';

/** Rows of the headline columns: each value with its Arrow type. */
export interface HeadlineTable {
  fields: Field[];
  rows: unknown[][];
}

/** The headline as text: one line, or two when the rows do not fit on one (`width` characters). */
export function headlineText(workflow: string, title: string, table: HeadlineTable, width = 120): string {
  const prefix = `${workflow} → ${title}: `;
  if (table.rows.length === 0) return `${prefix}no rows`;
  const sameDay = timestampsOnOneDay(table);
  const rows = table.rows.map((row) => row.map((value, i) => {
    const field = table.fields[i];
    const text = valueText(value, field.type, sameDay);
    // The first column, when it is text, names the row ("persistence MAE 0.01"); others are labelled.
    return i === 0 && field.type.typeId === Type.Utf8 ? text : `${field.name.replace(/_/g, ' ')} ${text}`;
  }).join(' '));
  const one = prefix + rows.join(' | ');
  if (one.length <= width || rows.length === 1) return one;
  return `${prefix}${rows[0]}\n${' '.repeat(4)}${rows.slice(1).join(' | ')}`;
}

/** A number to 4 significant digits, without trailing zeros; exponent form when very large or small. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (n === 0) return '0';
  const magnitude = Math.abs(n);
  if (magnitude >= 1e6 || magnitude < 1e-3) {
    const [mantissa, exponent] = n.toExponential(3).split('e');
    return `${trimZeros(mantissa)}e${exponent.replace(/^\+/, '')}`;
  }
  return trimZeros(n.toPrecision(4).includes('e') ? n.toFixed(0) : n.toPrecision(4));
}

const trimZeros = (text: string) => (text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text);

function valueText(value: unknown, type: DataType, sameDay: boolean): string {
  if (value === null || value === undefined) return '∅';
  switch (type.typeId) {
    case Type.Timestamp:
    case Type.Date:
      return timeText(Number(value), sameDay, type.typeId === Type.Date);
    case Type.Float:
      return formatNumber(Number(value));
    case Type.Int:
      return typeof value === 'bigint' ? value.toString() : String(value);
    case Type.Bool:
      return value ? 'yes' : 'no';
    case Type.Utf8: {
      const text = String(value);
      return text.length > 40 ? `${text.slice(0, 39)}…` : text;
    }
    case Type.List:
    case Type.FixedSizeList: {
      const items = [...(value as Iterable<unknown>)];
      const child = type.children[0].type;
      const shown = items.slice(0, 4).map((v) => valueText(v, child, sameDay));
      return `[${shown.join(', ')}${items.length > 4 ? `, … ${items.length} values` : ''}]`;
    }
    default:
      return typeof value === 'number' ? formatNumber(value) : String(value);
  }
}

/** `06:16` when every timestamp shown falls on one day, else `2011-06-07 06:16` (a date alone at midnight). */
function timeText(ms: number, sameDay: boolean, dateOnly: boolean): string {
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return String(ms);
  const iso = new Date(ms).toISOString();
  const [day, rest] = iso.split('T');
  const clock = rest.endsWith(':00.000Z') ? rest.slice(0, 5) : rest.slice(0, 8);
  if (dateOnly || clock === '00:00') return day;
  return sameDay ? clock : `${day} ${clock}`;
}

function timestampsOnOneDay(table: HeadlineTable): boolean {
  const days = new Set<string>();
  table.fields.forEach((f, i) => {
    if (f.type.typeId !== Type.Timestamp) return;
    for (const row of table.rows) if (row[i] !== null && row[i] !== undefined) days.add(new Date(Number(row[i])).toISOString().slice(0, 10));
  });
  return days.size === 1;
}

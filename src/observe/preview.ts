// Arrow values as short text for people: first rows of a table, tensors summarised.
import { Type, type DataType, type RecordBatch } from 'apache-arrow';

/** A JSON-safe value: bigints as numbers when exact, timestamps as ISO text, long lists cut short. */
export function plainValue(value: unknown, type: DataType): unknown {
  if (value === null || value === undefined) return null;
  switch (type.typeId) {
    case Type.Timestamp:
    case Type.Date: {
      // Arrow JS reads every unit back as milliseconds since the epoch.
      const ms = Number(value);
      return Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? new Date(ms).toISOString() : String(value);
    }
    case Type.List:
    case Type.FixedSizeList: {
      const items = [...(value as Iterable<unknown>)];
      const child = type.children[0].type;
      const shown = items.slice(0, 8).map((v) => plainValue(v, child));
      return items.length > 8 ? [...shown, `… ${items.length} values`] : shown;
    }
    case Type.Struct:
      return Object.fromEntries(type.children.map((f) => [f.name, plainValue((value as Record<string, unknown>)[f.name], f.type)]));
    default:
      if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
      if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
      return value;
  }
}

export function previewRows(batch: RecordBatch, rows: number): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < Math.min(rows, batch.numRows); i++) {
    const row: Record<string, unknown> = {};
    for (const [c, field] of batch.schema.fields.entries()) row[field.name] = plainValue(batch.getChildAt(c)!.get(i), field.type);
    out.push(row);
  }
  return out;
}

/** Rows as an aligned text table. */
export function textTable(columns: string[], rows: Record<string, unknown>[]): string {
  const cell = (v: unknown) => {
    const text = v === null ? '∅' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    return text.length > 40 ? `${text.slice(0, 39)}…` : text;
  };
  const cells = rows.map((r) => columns.map((c) => cell(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

// `quiver inspect PATH`: the schema and first rows of any file a source connector reads, using the
// same connector (and so the same type inference) a workflow would.
import { extname, resolve } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { parse as parseYaml } from 'yaml';
import { typeName } from '../arrow/types.ts';
import { previewRows, textTable } from '../observe/preview.ts';
import { builtinCatalog } from '../stages/catalog.ts';
import { describeIssue } from '../workflow/load.ts';
import type { SourceStage } from '../workflow/stage.ts';
import { parseFlags } from './args.ts';
import { UsageError } from './usage-error.ts';

export async function inspectCommand(args: string[]): Promise<number> {
  const { values, target } = parseFlags(args, {
    rows: { type: 'string', default: '10' },
    with: { type: 'string', multiple: true },
    json: { type: 'boolean', default: false },
  }, 'one file');
  const rows = Number(values.rows);
  if (!Number.isInteger(rows) || rows < 0) throw new UsageError(`--rows must be a whole number, not '${values.rows}'`);
  const source = await sourceFor(target);
  const settings: Record<string, unknown> = { path: resolve(target) };
  for (const kv of values.with ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`--with '${kv}' is not key=value`);
    settings[kv.slice(0, eq)] = parseYaml(kv.slice(eq + 1));
  }
  const parsed = source.params.safeParse(settings);
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => `${source.name}: ${describeIssue(i, i.path.join('.'))}`).join('; '));
  const { schema, partitions } = await source.discover(parsed.data, { baseDir: process.cwd() });
  const batches: RecordBatch[] = [];
  let have = 0;
  const partition = partitions[0];
  if (partition && rows > 0) {
    outer: for await (const chunk of partition.chunks()) {
      for await (const batch of source.read(chunk, parsed.data, { schema, partition: { index: 0, key: partition.key } })) {
        batches.push(batch);
        have += batch.numRows;
        if (have >= rows) break outer;
      }
    }
  }
  const preview = batches.flatMap((b) => previewRows(b, rows)).slice(0, rows);
  const fields = schema.fields.map((f) => ({
    name: f.name, type: typeName(f.type), nullable: f.nullable,
    ...(f.metadata.size ? { metadata: Object.fromEntries(f.metadata) } : {}),
  }));
  if (values.json) {
    process.stdout.write(JSON.stringify({ path: target, format: source.name, schema: fields, rows: preview }) + '\n');
    return 0;
  }
  const lines = [`${target} (${source.name})`, '', 'schema:'];
  for (const f of fields) lines.push(`  ${f.name}: ${f.type}${f.metadata ? `  ${JSON.stringify(f.metadata)}` : ''}`);
  lines.push('', `first ${preview.length} rows:`, textTable(fields.map((f) => f.name), preview));
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

async function sourceFor(path: string): Promise<SourceStage> {
  const extension = extname(path.replace(/\.gz$/, '')).toLowerCase();
  const sources = (await Promise.all(builtinCatalog.names().filter((n) => n.startsWith('source.')).map((n) => builtinCatalog.resolve(n, '.'))))
    .filter((s): s is SourceStage => s.kind === 'source');
  const source = sources.find((s) => s.extensions?.includes(extension));
  if (!source) {
    const known = sources.flatMap((s) => s.extensions ?? []);
    throw new Error(`${path}: no connector reads '${extension || 'files without an extension'}' (known: ${known.join(', ')})`);
  }
  return source;
}

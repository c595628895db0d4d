// The previews of one run's outputs, for the report's Results section and `quiver serve`: each
// entry of the workflow's `results:` drawn as its `show` says, then every other output as a table
// (CSV, Parquet, Arrow: schema and first rows) or a line with its size. A missing or unreadable
// output gives a preview saying what is wrong; nothing here throws.
import { stat } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Manifest } from '../../provenance/manifest.ts';
import { resultSpecSchema, type ResultSpec } from '../../workflow/results.ts';
import { formatBytes } from '../format.ts';
import { errorHtml, escapeHtml as esc, messageOf } from './html.ts';
import { imagePreviewHtml, volumePreviewHtml } from './image.ts';
import { metricsPreviewHtml } from './metrics.ts';
import { rangeDopplerPreviewHtml } from './range-doppler.ts';
import { isTableFile } from './read-output.ts';
import { seriesPreviewHtml } from './series.ts';
import { tablePreviewHtml } from './table.ts';
import { previewLimits, type Preview, type PreviewKind } from './types.ts';

export type { Preview } from './types.ts';

/** Outputs not named in `results:` previewed beyond this many are listed by name only. */
const maxUnnamed = 12;

/** The workflow's `results:` entries as recorded in the run, each parsed (or why it could not be). */
export function resultSpecsOf(manifest: Manifest): ({ spec: ResultSpec } | { output: string; error: string })[] {
  let doc: unknown;
  try {
    doc = parseYaml(manifest.workflow?.text ?? '');
  } catch {
    return [];
  }
  const results = (doc as { results?: unknown } | null)?.results;
  if (!Array.isArray(results)) return [];
  return results.map((raw) => {
    const parsed = resultSpecSchema.safeParse(raw);
    if (parsed.success) return { spec: parsed.data };
    const output = typeof (raw as { output?: unknown })?.output === 'string' ? (raw as { output: string }).output : '?';
    return { output, error: parsed.error.issues.map((i) => `${i.path.join('.') || 'entry'}: ${i.message}`).join('; ') };
  });
}

/** An output name as the workflow gives it → the recorded output path: itself, or a folder's first file. */
function matchOutput(name: string, outputs: string[]): string | undefined {
  const clean = name.replace(/^\.\//, '');
  if (outputs.includes(clean)) return clean;
  const folder = clean.endsWith('/') ? clean : `${clean}/`;
  return outputs.filter((o) => o.startsWith(folder)).sort()[0];
}

export async function previewsOfRun(run: { dir: string; manifest: Manifest }, outDir: string): Promise<Preview[]> {
  const manifest = run.manifest;
  const recorded = (manifest.outputs ?? []).map((o) => o.path.split('\\').join('/')).filter((p) => !p.startsWith('_quarantine/'));
  const sizes = new Map((manifest.outputs ?? []).map((o) => [o.path.split('\\').join('/'), o.bytes]));
  // Another output a preview draws from (marks, a mask, detections), by its name in the workflow.
  const resolve = (name: string) => {
    const found = matchOutput(name, recorded);
    return resolvePath(outDir, found ?? name);
  };
  const previews: Preview[] = [];
  const named = new Set<string>();
  for (const entry of resultSpecsOf(manifest)) {
    if ('error' in entry) {
      previews.push({ output: entry.output, title: entry.output, kind: 'table', html: errorHtml(`its results entry is not valid: ${entry.error}`) });
      continue;
    }
    const { spec } = entry;
    const found = matchOutput(spec.output, recorded);
    if (found) named.add(found);
    const path = found ?? spec.output;
    const kind: PreviewKind = spec.show?.kind ?? 'table';
    const title = spec.title ?? path;
    const html = await guarded(async () => {
      if (!found && !(await exists(join(outDir, path)))) {
        throw new Error(manifest.status === 'ok' ? `the run wrote no output '${spec.output}'` : `the run failed before writing '${spec.output}'`);
      }
      return previewHtml(join(outDir, path), spec, resolve);
    });
    previews.push({ output: path, title, kind, html });
  }
  const rest = recorded.filter((o) => !named.has(o));
  for (const [k, output] of rest.entries()) {
    const size = sizes.get(output);
    const sizeText = size === undefined ? '' : ` (${formatBytes(size)})`;
    if (k >= maxUnnamed || !isTableFile(output)) {
      previews.push({ output, title: output, kind: 'table', html: `<p class="mono">${esc(output)}${esc(sizeText)}</p>` });
      continue;
    }
    const html = await guarded(() => tablePreviewHtml(join(outDir, output), previewLimits.tableRows));
    previews.push({ output, title: output, kind: 'table', html });
  }
  return previews;
}

function previewHtml(file: string, spec: ResultSpec, resolve: (name: string) => string): Promise<string> {
  const show = spec.show;
  switch (show?.kind) {
    case undefined:
    case 'table': return tablePreviewHtml(file, spec.rows ?? previewLimits.tableRows, show?.columns);
    case 'metrics': return metricsPreviewHtml(file, show);
    case 'series': return seriesPreviewHtml(file, show, resolve);
    case 'image': return imagePreviewHtml(file, show, resolve);
    case 'volume': return volumePreviewHtml(file, show, resolve);
    case 'range-doppler': return rangeDopplerPreviewHtml(file, show, resolve);
  }
}

/** The preview's HTML, or a line saying why there is none. */
async function guarded(make: () => Promise<string>): Promise<string> {
  try {
    return await make();
  } catch (error) {
    return errorHtml(messageOf(error));
  }
}

const exists = (path: string) => stat(path).then(() => true, () => false);

// `quiver rerun RUN --verify`: runs a recorded workflow again from its record alone (the text and
// resolved params it stores), with no cache, into a scratch folder, and compares every output's
// sha256 with the record's. Inputs whose content changed since are named, since they explain a
// difference.
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { sha256OfFile } from '../io/file-hash.ts';
import { newRunId, runWorkflow } from './run-workflow.ts';
import type { RunSummary } from '../observe/summary.ts';
import type { StageCatalog } from '../workflow/catalog.ts';
import { parseWorkflow } from '../workflow/load.ts';
import type { WorkflowSpec } from '../workflow/types.ts';
import { readManifest } from '../provenance/runs.ts';

export interface OutputCheck {
  path: string;
  status: 'identical' | 'differs' | 'missing' | 'extra';
  recorded?: string;
  now?: string;
}

export interface Verification {
  runId: string;
  /** The new run into the scratch folder. */
  rerun: RunSummary;
  outputs: OutputCheck[];
  /** Inputs whose sha256 is no longer the recorded one (or that are gone). */
  changedInputs: string[];
  identical: boolean;
  /** Where the rerun's outputs are; removed when everything was identical unless kept. */
  scratch: string;
}

export async function verifyRun(
  outDir: string, ref: string, options: { catalog: StageCatalog; workers?: number; keep?: boolean; allowPaths?: string[] },
): Promise<Verification> {
  const { runId, manifest } = readManifest(outDir, ref);
  const baseDir = manifest.workflow.baseDir ?? resolve('.');
  const loaded = parseWorkflow(manifest.workflow.text, manifest.workflow.file, baseDir);
  if (!loaded.spec) throw new Error(`run ${runId}: its recorded workflow no longer parses: ${loaded.problems.map((p) => p.message).join('; ')}`);
  const spec: WorkflowSpec = { ...loaded.spec, params: manifest.params as WorkflowSpec['params'] };

  const changedInputs: string[] = [];
  for (const input of manifest.inputs) {
    if (!input.sha256) continue;
    const path = resolve(baseDir, input.path);
    if (!existsSync(path) || (await sha256OfFile(path)) !== input.sha256) changedInputs.push(input.path);
  }

  const scratch = join(outDir, '.quiver', 'verify', `${runId}-${newRunId()}`);
  const rerun = await runWorkflow({ spec, source: loaded.source }, {
    catalog: options.catalog, out: scratch, noCache: true, workers: options.workers,
    allowPaths: [resolve(outDir), ...(manifest.allowPaths ?? []), ...(options.allowPaths ?? [])],
  });
  const now = new Map(rerun.outputs.map((p) => [relative(scratch, p), p]));
  const outputs: OutputCheck[] = [];
  for (const o of manifest.outputs) {
    const path = now.get(o.path);
    now.delete(o.path);
    if (!path) outputs.push({ path: o.path, status: 'missing', recorded: o.sha256 });
    else {
      const sha = await sha256OfFile(path);
      outputs.push({ path: o.path, status: sha === o.sha256 ? 'identical' : 'differs', recorded: o.sha256, now: sha });
    }
  }
  for (const path of now.keys()) outputs.push({ path, status: 'extra' });
  const identical = rerun.status === 'ok' && outputs.every((o) => o.status === 'identical');
  if (identical && !options.keep) await rm(scratch, { recursive: true, force: true });
  return { runId, rerun, outputs, changedInputs, identical, scratch };
}

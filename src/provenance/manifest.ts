// The run record (OUT/.quiver/runs/RUN_ID/manifest.json): what ran, on what, with what, and what
// came out, so a result can be explained and reproduced later. Written last, atomically.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { cpus, platform, release, arch } from 'node:os';
import { dirname, relative } from 'node:path';
import { writeFileAtomic } from '../io/atomic-file.ts';
import { makeFolder } from '../io/make-folder.ts';
import { plannedBackend } from '../models/runtime.ts';
import type { StageStats } from './stage-stats.ts';
import type { OutputRecord } from '../workflow/stage.ts';
import type { ResolvedWorkflow } from '../workflow/validate.ts';
import { packageRoot } from '../workflow/own-code.ts';

export interface Manifest {
  manifestVersion: 1;
  runId: string;
  status: 'ok' | 'failed';
  error?: string;
  startedAt: string;
  endedAt: string;
  /** `baseDir`: the folder relative input paths resolve against (absolute), for reruns. */
  workflow: { name: string; file: string; baseDir: string; sha256: string; text: string };
  params: Record<string, unknown>;
  /** Every stage param named `seed`, by stage id: what made random choices repeatable. */
  seeds: Record<string, unknown>;
  stages: { id: string; use: string; kind: string; version: string; params: unknown; stats: Omit<StageStats, 'id' | 'use' | 'kind'> }[];
  /** An S3 input has its s3:// URL for `path`, and its ETag (and version id) instead of a sha256. */
  inputs: { stage: string; path: string; sha256?: string; changed?: true; bytes?: number; modified?: string; etag?: string; versionId?: string }[];
  /**
   * Every task's cache key: per stage output partition (`partition` is its name), and per sink
   * (`partition` '*'). `status` says whether this run computed it, took it from the cache, or
   * did not need it (what it leads to was cached).
   */
  tasks: { stage: string; partition: string; key: string; status: 'computed' | 'cached' | 'skipped' }[];
  /** Whether the run could use the task cache (false with --no-cache). */
  cache: boolean;
  /** Folders outside the workflow's own it was allowed to read (--allow-path), absolute. */
  allowPaths: string[];
  outputs: { path: string; sha256: string; bytes: number }[];
  executor: { kind: string; workers: number };
  runtime: { quiver: string; node: string; platform: string; arch: string; osRelease: string; cpu: string; cpus: number };
  packages: Record<string, string>;
  /** For a workflow with model stages: the backend they run on (each model card names the one that trained it). */
  modelBackend?: string;
}


/** Versions of quiver's dependencies as the lockfile resolved them. */
export function lockedPackages(): { quiver: string; packages: Record<string, string> } {
  try {
    const lock = JSON.parse(readFileSync(new URL('package-lock.json', packageRoot), 'utf8')) as {
      version: string; packages: Record<string, { version?: string; dependencies?: Record<string, string> }>;
    };
    const root = lock.packages[''];
    const packages: Record<string, string> = {};
    for (const name of Object.keys(root.dependencies ?? {}).sort()) {
      const version = lock.packages[`node_modules/${name}`]?.version;
      if (version) packages[name] = version;
    }
    return { quiver: lock.version, packages };
  } catch {
    return { quiver: 'unknown', packages: {} };
  }
}

export function buildManifest(args: {
  runId: string; status: 'ok' | 'failed'; error?: string; startedAt: Date; endedAt: Date; outDir: string;
  workflow: ResolvedWorkflow; stats: StageStats[]; outputs: OutputRecord[]; executor: { kind: string; workers: number };
  inputHashes: Map<string, string>; changedInputs?: Set<string>;
  /** Size and modification time of each input as hashed (still true of those not in changedInputs). */
  inputStamps?: Map<string, { size: number; mtimeMs: number }>; tasks: Manifest['tasks']; cache: boolean; allowPaths: string[];
}): Manifest {
  const { workflow, outDir } = args;
  const { quiver, packages } = lockedPackages();
  const statsById = new Map(args.stats.map((s) => [s.id, s]));
  const inputs: Manifest['inputs'] = [];
  for (const s of workflow.stages) {
    for (const p of s.partitions ?? []) {
      if (p.object) {
        inputs.push({ stage: s.id, path: p.key, bytes: p.object.size, etag: p.object.etag, ...(p.object.versionId ? { versionId: p.object.versionId } : {}) });
        continue;
      }
      if (!p.file) continue; // generated partitions have no file
      // Changed since it was hashed: the old hash would describe bytes no longer there.
      const changed = args.changedInputs?.has(p.file);
      const stamp = changed ? undefined : args.inputStamps?.get(p.file);
      const st = stamp ? { size: stamp.size, mtime: new Date(stamp.mtimeMs) } : statSync(p.file, { throwIfNoEntry: false });
      const sha256 = changed ? undefined : args.inputHashes.get(p.file);
      inputs.push({
        stage: s.id, path: p.key, ...(sha256 ? { sha256 } : {}), ...(changed ? { changed: true } : {}),
        ...(st ? { bytes: st.size, modified: st.mtime.toISOString() } : {}),
      });
    }
  }
  return {
    manifestVersion: 1,
    runId: args.runId,
    status: args.status,
    ...(args.error ? { error: workflow.redactor.text(args.error) } : {}),
    startedAt: args.startedAt.toISOString(),
    endedAt: args.endedAt.toISOString(),
    workflow: {
      name: workflow.spec.name,
      file: workflow.source.file,
      baseDir: workflow.source.baseDir,
      sha256: createHash('sha256').update(workflow.source.text).digest('hex'),
      text: workflow.redactor.workflowText(workflow.source.text),
    },
    params: workflow.redactor.value(workflow.params),
    seeds: workflow.redactor.value(seedsOf(workflow)),
    stages: workflow.stages.map((s) => {
      const { id: _id, use: _use, kind: _kind, ...stats } = statsById.get(s.id)!;
      return { id: s.id, use: s.spec.use, kind: s.stage.kind, version: s.stage.version, params: workflow.redactor.value(s.params), stats };
    }),
    inputs,
    tasks: args.tasks,
    cache: args.cache,
    allowPaths: args.allowPaths,
    outputs: args.outputs.map((o) => ({ ...o, path: relative(outDir, o.path) })),
    executor: args.executor,
    runtime: {
      quiver, node: process.version, platform: platform(), arch: arch(), osRelease: release(),
      cpu: cpus()[0]?.model ?? 'unknown', cpus: cpus().length,
    },
    packages,
    ...(workflow.stages.some((s) => s.spec.use.startsWith('model.')) ? { modelBackend: plannedBackend() } : {}),
  };
}

function seedsOf(workflow: ResolvedWorkflow): Record<string, unknown> {
  const seeds: Record<string, unknown> = {};
  for (const s of workflow.stages) {
    const seed = (s.params as Record<string, unknown> | undefined)?.seed;
    if (seed !== undefined) seeds[s.id] = seed;
  }
  return seeds;
}

export async function writeManifest(path: string, manifest: Manifest): Promise<void> {
  makeFolder(dirname(path));
  await writeFileAtomic(path, JSON.stringify(manifest, null, 2) + '\n');
}

// Cache keys (DESIGN.md §1): every stage output partition gets a key from what determines its bytes —
// the stage's name, implementation version and resolved params, and either the input partition's
// name and content hash (sources) or the keys of the upstream partitions it reads. Stage ids, worker
// counts, timings and the order tasks finish in never enter a key, so keys are stable across runs
// and machines.
import { readFileSync } from 'node:fs';
import type { Schema } from 'apache-arrow';
import { typeName } from '../arrow/types.ts';
import type { ReduceStage, SinkStage } from '../workflow/stage.ts';
import { StageCatalog } from '../workflow/catalog.ts';
import type { ResolvedStage, ResolvedWorkflow } from '../workflow/validate.ts';
import { canonicalJson, hashParts } from '../cache/hash.ts';
import { s3Identity } from '../io/s3-object.ts';

export interface StageKeys {
  /** Per output partition: the key of the stage's output for it. */
  keys: string[];
  /** Per output partition: its name (the input file it descends from, or the stage id). */
  names: string[];
  /** Reduces with scope 'partition': per output partition, the input and partition it comes from. */
  origins?: { input: number; partition: number }[];
}

export interface WorkflowKeys {
  stages: Map<string, StageKeys>;
  /** One key per sink, over everything it writes. */
  sinks: Map<string, string>;
  /** Sinks that write a file per partition: a key per partition (named as their input's). */
  sinkPartitions: Map<string, string[]>;
}

/**
 * What a stage computes, independent of its id. Which files a source reads (`path`) is left out:
 * each file's own name and content are in its partition's key, so widening a glob to take in one
 * more file leaves the other files' keys as they were. A stage written in a local file also
 * contributes the file's text, so editing it reruns it even without a version change.
 */
export function describeStage(s: ResolvedStage, baseDir: string): string {
  let params = s.params;
  if (s.stage.kind === 'source' && params && typeof params === 'object') {
    const { path: _path, ...rest } = params as Record<string, unknown>;
    params = rest;
  }
  // onError changes what is kept of rejected rows, so it is part of what the stage computes.
  const parts: unknown[] = [s.stage.kind, s.spec.use, s.stage.version, params, s.spec.onError ?? 'fail'];
  // Fix: a source's schema can come from its data (CSV types inferred from the first file), so a
  // file added before the others can change how every file is read: the schema is part of what it
  // computes. (Other stages' schemas follow from their inputs' and their params, already keyed.)
  if (s.stage.kind === 'source') parts.push(schemaText(s.schema));
  if (StageCatalog.isFileReference(s.spec.use)) parts.push(hashParts(readFileSync(StageCatalog.stageFile(s.spec.use, baseDir), 'utf8')));
  if (s.stage.fingerprint) parts.push(s.stage.fingerprint(s.params, { baseDir }));
  return canonicalJson(parts);
}

/** A schema as stable text: field names, quiver's type names, nullability and metadata. */
function schemaText(schema: Schema): unknown {
  const meta = (m: Map<string, string>) => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return [schema.fields.map((f) => [f.name, typeName(f.type), f.nullable, meta(f.metadata)]), meta(schema.metadata)];
}

/** Where the rows a stage rejected for a partition are kept, beside its output. */
export const rejectedKey = (key: string) => hashParts(key, 'rejected');

/** `contentOf(file)`: the sha256 of an input file. */
export function workflowKeys(workflow: ResolvedWorkflow, contentOf: (file: string) => string): WorkflowKeys {
  const stages = new Map<string, StageKeys>();
  const sinks = new Map<string, string>();
  const sinkPartitions = new Map<string, string[]>();
  const baseDir = workflow.source.baseDir;
  for (const s of workflow.stages) {
    const desc = describeStage(s, baseDir);
    const inputs = s.inputs.map((id) => stages.get(id)!);
    const kind = s.stage.kind;
    if (kind === 'source') {
      const partitions = s.partitions ?? [];
      stages.set(s.id, {
        keys: partitions.map((p) => hashParts(desc, p.key, p.file ? contentOf(p.file) : p.object ? s3Identity(p.object) : '', ...(p.fingerprint ? [p.fingerprint] : []))),
        names: partitions.map((p) => p.key),
      });
    } else if (kind === 'map' || kind === 'model') {
      stages.set(s.id, { keys: inputs[0].keys.map((k) => hashParts(desc, k)), names: inputs[0].names });
    } else if (kind === 'reduce') {
      const stage = s.stage as ReduceStage;
      const everything = canonicalJson(inputs.map((i) => i.keys));
      if (stage.scope(s.params) === 'all') {
        stages.set(s.id, { keys: [hashParts(desc, everything)], names: [s.id] });
        continue;
      }
      // Each output partition depends on its own input partition and on the build inputs only.
      const build = stage.buildInputs?.(s.params) ?? [];
      const buildKeys = canonicalJson(build.map((i) => inputs[i].keys));
      const out: StageKeys = { keys: [], names: [], origins: [] };
      inputs.forEach((input, i) => {
        if (build.includes(i)) return;
        input.keys.forEach((k, q) => {
          out.keys.push(hashParts(desc, String(i), k, buildKeys));
          out.names.push(input.names[q]);
          out.origins!.push({ input: i, partition: q });
        });
      });
      stages.set(s.id, out);
    } else {
      sinks.set(s.id, hashParts(desc, canonicalJson(inputs[0].keys)));
      // A file per partition: each keyed by its name and its partition's data alone, so adding or
      // removing another partition leaves it as it was.
      const files = (s.stage as SinkStage).partitionFiles?.(s.params, inputs[0].names.map((key, index) => ({ index, key })));
      if (files) sinkPartitions.set(s.id, inputs[0].keys.map((k, j) => hashParts(desc, files[j], k)));
    }
  }
  return { stages, sinks, sinkPartitions };
}

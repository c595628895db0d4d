// Why a task runs, in words (Snakemake's rerun triggers, made readable): each task that is
// computed is compared with the same stage and partition in the previous run record of the same
// output folder — new input, input changed, stage version or param changed, upstream changed, or
// simply not in the cache.
import type { Manifest } from '../provenance/manifest.ts';
import { canonicalJson } from '../cache/hash.ts';
import { isSecretName, redactParams, redacted } from '../workflow/secrets.ts';
import type { TaskDecisions } from './decide.ts';
import { segmentMembers, type Plan } from './plan.ts';

export interface Explanation {
  /** The stages the task runs (a fused segment runs several) and the partition. */
  task: string;
  reason: string;
}

/** `contentOf(file)`: the input file's sha256, as hashed for this run. */
export function explainTasks(plan: Plan, tasks: TaskDecisions, previous: Manifest | undefined, contentOf: (file: string) => string | undefined): Explanation[] {
  const workflow = plan.workflow;
  const prevKeys = new Map((previous?.tasks ?? []).map((t) => [`${t.stage}\0${t.partition}`, t.key]));
  const keyOf = (id: string, j: number) => tasks.keys.stages.get(id)!.keys[j];
  const nameOf = (id: string, j: number) => tasks.keys.stages.get(id)!.names[j];
  const changed = (id: string, j: number) => prevKeys.get(`${id}\0${nameOf(id, j)}`) !== keyOf(id, j);
  // Looked up once, not per task: a run may have many thousands.
  const prevInputs = new Map((previous?.inputs ?? []).map((i) => [`${i.stage}\0${i.path}`, i]));
  const prevCounts = new Map<string, number>();
  for (const t of previous?.tasks ?? []) prevCounts.set(t.stage, (prevCounts.get(t.stage) ?? 0) + 1);
  const stageReasons = new Map<string, string | undefined>();
  /** What changed in the stage itself (the same for all its partitions), if anything. */
  const stageReason = (id: string): string | undefined => {
    if (stageReasons.has(id)) return stageReasons.get(id);
    const s = workflow.byId.get(id)!;
    const before = previous!.stages.find((p) => p.id === id);
    // The record holds secrets redacted: compare like with like.
    const diff = before && paramDiff(before.params, redactParams(s.params));
    const reason = !before ? `stage '${id}' is new`
      : before.use !== s.spec.use ? `stage '${id}' now uses ${s.spec.use} (was ${before.use})`
      : before.version !== s.stage.version ? `stage '${id}' version changed from ${before.version} to ${s.stage.version}`
      : diff ? `param '${diff.path}' of '${id}' changed from ${diff.from} to ${diff.to}`
      : undefined;
    stageReasons.set(id, reason);
    return reason;
  };
  const wholeChanged = new Map<string, boolean>();
  /** Did any partition of `from` change, or their number? */
  const anyChanged = (from: string) => {
    if (!wholeChanged.has(from)) {
      const count = tasks.keys.stages.get(from)!.keys.length;
      wholeChanged.set(from, count !== (prevCounts.get(from) ?? 0) || Array.from({ length: count }, (_, q) => q).some((q) => changed(from, q)));
    }
    return wholeChanged.get(from)!;
  };

  /** Why stage `id`'s output for partition j (or its whole output) differs from the previous run's. */
  const why = (id: string, j: number | undefined): string => {
    if (!previous) return 'no earlier run in this output folder';
    if (!tasks.store) return 'its output is not in the cache (--no-cache)';
    const s = workflow.byId.get(id)!;
    const own = stageReason(id);
    if (own) return own;
    if (s.stage.kind === 'source' && j !== undefined) {
      const name = nameOf(id, j);
      const input = prevInputs.get(`${id}\0${name}`);
      if (!input) return `new input ${name}`;
      const file = s.partitions?.[j]?.file;
      if (input.sha256 && file && input.sha256 === contentOf(file) && changed(id, j)) {
        return `the schema read from the files changed (types inferred from the data), so ${name} is read again`;
      }
      if (changed(id, j)) return `input ${name} changed`;
    }
    /** The input partitions this output was made from: one for maps and per-partition reduces, else all. */
    const readFrom = (i: number): number[] | undefined => {
      if (j === undefined) return undefined;
      if (s.stage.kind === 'map' || s.stage.kind === 'model' || s.stage.kind === 'sink') return [j];
      const origin = tasks.keys.stages.get(id)!.origins?.[j];
      return origin?.input === i ? [origin.partition] : undefined;
    };
    const upstream = s.inputs.filter((from, i) => {
      const partitions = readFrom(i);
      return partitions ? partitions.some((q) => changed(from, q)) : anyChanged(from);
    });
    if (upstream.length) return `upstream ${upstream.map((u) => `'${u}'`).join(', ')} changed`;
    const partKeys = tasks.keys.sinkPartitions.get(id);
    const unseen = s.stage.kind !== 'sink' ? changed(id, j ?? 0)
      : partKeys && j !== undefined ? prevKeys.get(`${id}\0${nameOf(s.inputs[0], j)}`) !== partKeys[j]
      : prevKeys.get(`${id}\0*`) !== tasks.keys.sinks.get(id);
    if (unseen) return `stage '${id}' changed in what the record does not show (a secret param, its stage file, or a model artifact it reads)`;
    return 'its output is not in the cache (an earlier run stopped before it, the cache was pruned, or --no-cache)';
  };

  const out: Explanation[] = [];
  for (const node of plan.nodes) {
    const parts = node.kind === 'sink' ? tasks.restorableParts.get(node.id) : undefined;
    if (node.kind === 'sink' && parts) {
      const names = tasks.keys.stages.get(node.stage.inputs[0])!.names;
      const partKeys = tasks.keys.sinkPartitions.get(node.id)!;
      parts.forEach((kept, j) => {
        if (kept) return;
        const same = prevKeys.get(`${node.id}\0${names[j]}`) === partKeys[j];
        out.push({ task: `${node.id} × ${names[j]}`, reason: same ? 'its file is not in the cache' : why(node.id, j) });
      });
      continue;
    }
    if (node.kind === 'sink') {
      if (tasks.restorable.has(node.id)) continue;
      const key = tasks.keys.sinks.get(node.id)!;
      const same = prevKeys.get(`${node.id}\0*`) === key;
      out.push({ task: `${node.id} (all partitions)`, reason: same ? 'its files are not in the cache' : why(node.id, undefined) });
      continue;
    }
    const decisions = tasks.nodes.get(node.id)!;
    const members = node.kind === 'segment' ? segmentMembers(node) : [node.id];
    decisions.forEach((d, j) => {
      if (d !== 'compute') return;
      const first = members.find((id) => changed(id, j)) ?? members[0];
      const scopeAll = node.kind === 'reduce' && tasks.keys.stages.get(node.id)!.origins === undefined;
      out.push({ task: `${members.join('+')} × ${nameOf(members[0], j)}`, reason: why(first, scopeAll ? undefined : j) });
    });
  }
  return out;
}

/** The first difference between two params objects, as a dotted path and both values. */
export function paramDiff(a: unknown, b: unknown, path = ''): { path: string; from: string; to: string } | undefined {
  if (canonicalJson(a) === canonicalJson(b)) return undefined;
  const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
  if (isObject(a) && isObject(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      const d = paramDiff(a[k], b[k], path ? `${path}.${k}` : k);
      if (d) return d;
    }
  }
  const secret = path.split('.').some(isSecretName);
  const show = (v: unknown) => (v === undefined ? '(unset)' : secret ? redacted : JSON.stringify(v));
  return { path: path || '(all)', from: show(a), to: show(b) };
}

// Why a task runs, in words (Snakemake's rerun triggers, made readable): each task that is
// computed is compared with the same stage and partition in the previous run record of the same
// output folder — new input, input changed, stage version or param changed, upstream changed, or
// simply not in the cache.
import type { Manifest } from '../provenance/manifest.ts';
import { canonicalJson } from '../cache/hash.ts';
import { isSecretName, redacted } from '../workflow/secrets.ts';
import type { TaskDecisions } from './decide.ts';
import { segmentMembers, type Plan, type PlanNode, type StageNode } from './plan.ts';

export interface Explanation {
  /** The stages the task runs (a fused segment runs several) and the partition. */
  task: string;
  reason: string;
}

/** `contentOf(file)`: the input file's sha256, as hashed for this run. */
export function explainTasks(plan: Plan, tasks: TaskDecisions, previous: Manifest | undefined, contentOf: (file: string) => string | undefined): Explanation[] {
  const explainer = new Explainer(plan, tasks, previous, contentOf);
  return plan.nodes.flatMap((node) => explainer.explain(node));
}

class Explainer {
  private readonly prevKeys: Map<string, string>;
  // Looked up once, not per task: a run may have many thousands.
  private readonly prevInputs: Map<string, Manifest['inputs'][number]>;
  private readonly prevCounts = new Map<string, number>();
  private readonly stageReasons = new Map<string, string | undefined>();
  private readonly wholeChanged = new Map<string, boolean>();

  constructor(
    private readonly plan: Plan, private readonly tasks: TaskDecisions,
    private readonly previous: Manifest | undefined, private readonly contentOf: (file: string) => string | undefined,
  ) {
    this.prevKeys = new Map((previous?.tasks ?? []).map((t) => [`${t.stage}\0${t.partition}`, t.key]));
    this.prevInputs = new Map((previous?.inputs ?? []).map((i) => [`${i.stage}\0${i.path}`, i]));
    for (const t of previous?.tasks ?? []) this.prevCounts.set(t.stage, (this.prevCounts.get(t.stage) ?? 0) + 1);
  }

  /** The node's tasks that are computed, each with why. */
  explain(node: PlanNode): Explanation[] {
    if (node.kind === 'sink') return this.explainSink(node);
    const members = node.kind === 'segment' ? segmentMembers(node) : [node.id];
    const scopeAll = node.kind === 'reduce' && this.tasks.keys.stages.get(node.id)!.origins === undefined;
    const out: Explanation[] = [];
    this.tasks.nodes.get(node.id)!.forEach((d, j) => {
      if (d !== 'compute') return;
      const first = members.find((id) => this.changed(id, j)) ?? members[0];
      out.push({ task: `${members.join('+')} × ${this.nameOf(members[0], j)}`, reason: this.why(first, scopeAll ? undefined : j) });
    });
    return out;
  }

  private explainSink(node: StageNode): Explanation[] {
    const { keys, restorable, restorableParts } = this.tasks;
    const parts = restorableParts.get(node.id);
    if (!parts) {
      if (restorable.has(node.id)) return [];
      const same = this.prevKeys.get(`${node.id}\0*`) === keys.sinks.get(node.id);
      return [{ task: `${node.id} (all partitions)`, reason: same ? 'its files are not in the cache' : this.why(node.id, undefined) }];
    }
    const names = keys.stages.get(node.stage.inputs[0])!.names;
    const partKeys = keys.sinkPartitions.get(node.id)!;
    return parts.flatMap((kept, j) => {
      if (kept) return [];
      const same = this.prevKeys.get(`${node.id}\0${names[j]}`) === partKeys[j];
      return [{ task: `${node.id} × ${names[j]}`, reason: same ? 'its file is not in the cache' : this.why(node.id, j) }];
    });
  }

  private keyOf(id: string, j: number): string {
    return this.tasks.keys.stages.get(id)!.keys[j];
  }

  private nameOf(id: string, j: number): string {
    return this.tasks.keys.stages.get(id)!.names[j];
  }

  private changed(id: string, j: number): boolean {
    return this.prevKeys.get(`${id}\0${this.nameOf(id, j)}`) !== this.keyOf(id, j);
  }

  /** Did any partition of `from` change, or their number? */
  private anyChanged(from: string): boolean {
    let known = this.wholeChanged.get(from);
    if (known === undefined) {
      const count = this.tasks.keys.stages.get(from)!.keys.length;
      known = count !== (this.prevCounts.get(from) ?? 0) || Array.from({ length: count }, (_, q) => q).some((q) => this.changed(from, q));
      this.wholeChanged.set(from, known);
    }
    return known;
  }

  /** What changed in the stage itself (the same for all its partitions), if anything. */
  private stageReason(id: string): string | undefined {
    if (this.stageReasons.has(id)) return this.stageReasons.get(id);
    const s = this.plan.workflow.byId.get(id)!;
    const before = this.previous!.stages.find((p) => p.id === id);
    // The record holds secrets redacted: compare like with like.
    const diff = before && paramDiff(before.params, this.plan.workflow.redactor.value(s.params));
    const reason = !before ? `stage '${id}' is new`
      : before.use !== s.spec.use ? `stage '${id}' now uses ${s.spec.use} (was ${before.use})`
      : before.version !== s.stage.version ? `stage '${id}' version changed from ${before.version} to ${s.stage.version}`
      : diff ? `param '${diff.path}' of '${id}' changed from ${diff.from} to ${diff.to}`
      : undefined;
    this.stageReasons.set(id, reason);
    return reason;
  }

  /** Why stage `id`'s output for partition j (or its whole output) differs from the previous run's. */
  private why(id: string, j: number | undefined): string {
    if (!this.previous) return 'no earlier run in this output folder';
    if (!this.tasks.store) return 'its output is not in the cache (--no-cache)';
    const reason = this.stageReason(id) ?? (j === undefined ? undefined : this.inputReason(id, j)) ?? this.upstreamReason(id, j);
    if (reason) return reason;
    const s = this.plan.workflow.byId.get(id)!;
    const partKeys = this.tasks.keys.sinkPartitions.get(id);
    const unseen = s.stage.kind !== 'sink' ? this.changed(id, j ?? 0)
      : partKeys && j !== undefined ? this.prevKeys.get(`${id}\0${this.nameOf(s.inputs[0], j)}`) !== partKeys[j]
      : this.prevKeys.get(`${id}\0*`) !== this.tasks.keys.sinks.get(id);
    if (unseen) return `stage '${id}' changed in what the record does not show (a secret param, its stage file, or a model artifact it reads)`;
    return 'its output is not in the cache (an earlier run stopped before it, the cache was pruned, or --no-cache)';
  }

  /** For a source's partition: a new or changed input file, or the schema read from the files. */
  private inputReason(id: string, j: number): string | undefined {
    const s = this.plan.workflow.byId.get(id)!;
    if (s.stage.kind !== 'source') return undefined;
    const name = this.nameOf(id, j);
    const input = this.prevInputs.get(`${id}\0${name}`);
    if (!input) return `new input ${name}`;
    const file = s.partitions?.[j]?.file;
    if (!this.changed(id, j)) return undefined;
    if (input.sha256 && file && input.sha256 === this.contentOf(file)) {
      return `the schema read from the files changed (types inferred from the data), so ${name} is read again`;
    }
    return `input ${name} changed`;
  }

  /** The inputs whose partitions this output was made from that changed. */
  private upstreamReason(id: string, j: number | undefined): string | undefined {
    const s = this.plan.workflow.byId.get(id)!;
    /** The input partitions this output was made from: one for maps and per-partition reduces, else all. */
    const readFrom = (i: number): number[] | undefined => {
      if (j === undefined) return undefined;
      if (s.stage.kind === 'map' || s.stage.kind === 'model' || s.stage.kind === 'sink') return [j];
      const origin = this.tasks.keys.stages.get(id)!.origins?.[j];
      return origin?.input === i ? [origin.partition] : undefined;
    };
    const upstream = s.inputs.filter((from, i) => {
      const partitions = readFrom(i);
      return partitions ? partitions.some((q) => this.changed(from, q)) : this.anyChanged(from);
    });
    return upstream.length ? `upstream ${upstream.map((u) => `'${u}'`).join(', ')} changed` : undefined;
  }
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

// Which tasks a run does: working back from the sinks, a sink whose files are cached is put back
// as it was; otherwise it wants every partition of its input. A wanted partition whose output is
// cached is replayed from the cache and wants nothing upstream; one that is not is computed and
// wants its own inputs. What nobody wants is skipped, so a rerun reads only what changed.
import type { Plan, SegmentNode } from '../engine/plan.ts';
import type { ReduceStage } from '../workflow/stage.ts';
import { rejectedKey, type WorkflowKeys } from './keys.ts';
import type { CacheStore, SinkRecord } from './store.ts';

export type Decision = 'compute' | 'replay' | 'skip';

export interface TaskDecisions {
  keys: WorkflowKeys;
  /** The cache to read and fill; absent with --no-cache. */
  store?: CacheStore;
  /** Per plan node id, per output partition (for a segment: per partition of its root). */
  nodes: Map<string, Decision[]>;
  /** Per channel (`TO#INPUT`): the partitions it carries. */
  wants: Map<string, Set<number>>;
  /** Sinks whose files can be put back from the cache. */
  restorable: Map<string, SinkRecord>;
  /** Sinks that write a file per partition: per partition, its record if its file can be put back. */
  restorableParts: Map<string, (SinkRecord | undefined)[]>;
}

export const channelId = (to: string, input: number) => `${to}#${input}`;

/** Members of a segment, source first: the stages it runs for each partition. */
export const segmentMembers = (node: SegmentNode): string[] =>
  [...(node.root.kind === 'source' ? [node.root.stage.id] : []), ...node.maps.map((m) => m.stage.id)];

export function decideTasks(plan: Plan, keys: WorkflowKeys, store: CacheStore | undefined): TaskDecisions {
  const nodes = new Map<string, Decision[]>();
  const wants = new Map<string, Set<number>>();
  const restorable = new Map<string, SinkRecord>();
  const restorableParts = new Map<string, (SinkRecord | undefined)[]>();
  const partitionsOf = (stageId: string) => keys.stages.get(stageId)!.keys;
  const all = (stageId: string) => new Set(partitionsOf(stageId).keys());
  const wantedFrom = (stageId: string) => {
    const wanted = new Set<number>();
    for (const e of plan.edges) if (e.from === stageId) for (const j of wants.get(channelId(e.to, e.input)) ?? []) wanted.add(j);
    return wanted;
  };
  const cached = (stageId: string, j: number, withStream: boolean) => {
    const key = partitionsOf(stageId)[j];
    const record = store?.record(key);
    if (!store || !record || (withStream && !store.hasStream(key))) return false;
    // Rows it quarantined are replayed into this run's quarantine file: they must be there too.
    const quarantining = plan.workflow.byId.get(stageId)!.spec.onError === 'quarantine';
    return !(quarantining && record.quarantined > 0 && !store.hasStream(rejectedKey(key)));
  };

  for (const node of [...plan.nodes].reverse()) {
    const inbound = plan.edges.filter((e) => e.to === node.id);
    const want = (input: number, partitions: Set<number>) => wants.set(channelId(node.id, input), partitions);

    const partKeys = keys.sinkPartitions.get(node.id);
    if (node.kind === 'sink' && partKeys) {
      // Each partition's file on its own: only those not kept are written.
      const records = partKeys.map((k) => store?.sinkRecord(k));
      restorableParts.set(node.id, records);
      want(0, new Set(records.flatMap((r, j) => (r ? [] : [j]))));
    } else if (node.kind === 'sink') {
      const record = store?.sinkRecord(keys.sinks.get(node.id)!);
      if (record) restorable.set(node.id, record);
      want(0, record ? new Set() : all(node.stage.inputs[0]));
    } else if (node.kind === 'reduce') {
      const stage = node.stage.stage as ReduceStage;
      const decisions: Decision[] = partitionsOf(node.id).map(() => 'skip');
      for (const j of wantedFrom(node.id)) decisions[j] = cached(node.id, j, true) ? 'replay' : 'compute';
      nodes.set(node.id, decisions);
      const computing = decisions.some((d) => d === 'compute');
      const inputs = node.stage.inputs;
      if (stage.scope(node.stage.params) === 'all') {
        inputs.forEach((from, i) => want(i, computing ? all(from) : new Set()));
      } else {
        const build = stage.buildInputs?.(node.stage.params) ?? [];
        const origins = keys.stages.get(node.id)!.origins!;
        inputs.forEach((from, i) => want(i, build.includes(i) && computing ? all(from) : new Set()));
        decisions.forEach((d, j) => {
          if (d === 'compute') wants.get(channelId(node.id, origins[j].input))!.add(origins[j].partition);
        });
      }
    } else if (node.kind === 'segment') {
      const members = segmentMembers(node);
      const exitWants = node.exits.map((id) => wantedFrom(id));
      const root = node.root.kind === 'source' ? node.root.stage.id : node.root.from;
      const quarantining = members.filter((id) => plan.workflow.byId.get(id)!.spec.onError === 'quarantine');
      const decisions = partitionsOf(root).map((_, j): Decision => {
        const demanded = node.exits.filter((_, x) => exitWants[x].has(j));
        // Rows it quarantined must reach this run's quarantine file even when nothing else is wanted.
        const rejectedRows = quarantining.some((id) => (store?.record(partitionsOf(id)[j])?.quarantined ?? 0) > 0);
        if (demanded.length === 0) return rejectedRows ? 'replay' : 'skip';
        const replayable = members.every((id) => cached(id, j, false)) && demanded.every((id) => cached(id, j, true));
        return replayable ? 'replay' : 'compute';
      });
      nodes.set(node.id, decisions);
      if (node.root.kind === 'input') {
        want(0, new Set(decisions.flatMap((d, j) => (d === 'compute' ? [j] : []))));
      }
    }
    for (const e of inbound) if (!wants.has(channelId(e.to, e.input))) want(e.input, new Set());
  }
  return { keys, store, nodes, wants, restorable, restorableParts };
}

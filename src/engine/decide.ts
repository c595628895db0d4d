// Which tasks a run does: working back from the sinks, a sink whose files are cached is put back
// as it was; otherwise it wants every partition of its input. A wanted partition whose output is
// cached is replayed from the cache and wants nothing upstream; one that is not is computed and
// wants its own inputs. What nobody wants is skipped, so a rerun reads only what changed.
import type { Store } from '../cache/store.ts';
import type { ReduceStage } from '../workflow/stage.ts';
import { rejectedKey, type WorkflowKeys } from './keys.ts';
import { readSinkRecord, type SinkRecord, type TaskRecord } from './partition-cache.ts';
import { segmentMembers, type Plan, type PlanNode, type SegmentNode, type StageNode } from './plan.ts';

export type Decision = 'compute' | 'replay' | 'skip';

export interface TaskDecisions {
  keys: WorkflowKeys;
  /** The cache to read and fill; absent with --no-cache. */
  store?: Store;
  /** Per plan node id, per output partition (for a segment: per partition of its root). */
  nodes: Map<string, Decision[]>;
  /** Per channel (`TO#INPUT`): the partitions it carries. */
  wants: Map<string, Set<number>>;
  /** Sinks whose files can be put back from the cache. */
  restorable: Map<string, SinkRecord>;
  /** Sinks that write a file per partition: per partition, its record if its file can be put back. */
  restorableParts: Map<string, (SinkRecord | undefined)[]>;
  /** The task records read while deciding, by key: replays and progress count their rows. */
  records: Map<string, TaskRecord>;
}

export const channelId = (to: string, input: number) => `${to}#${input}`;

export async function decideTasks(plan: Plan, keys: WorkflowKeys, store: Store | undefined): Promise<TaskDecisions> {
  const decider = new Decider(plan, keys, store);
  for (const node of [...plan.nodes].reverse()) await decider.decide(node);
  return decider.tasks;
}

class Decider {
  readonly tasks: TaskDecisions;

  constructor(private readonly plan: Plan, keys: WorkflowKeys, private readonly store: Store | undefined) {
    this.tasks = { keys, store, nodes: new Map(), wants: new Map(), restorable: new Map(), restorableParts: new Map(), records: new Map() };
  }

  async decide(node: PlanNode): Promise<void> {
    if (node.kind === 'segment') await this.decideSegment(node);
    else if (node.kind === 'reduce') await this.decideReduce(node);
    else await this.decideSink(node);
    for (const e of this.plan.edges) if (e.to === node.id && !this.tasks.wants.has(channelId(e.to, e.input))) this.want(node, e.input, new Set());
  }

  private want(node: PlanNode, input: number, partitions: Set<number>) {
    this.tasks.wants.set(channelId(node.id, input), partitions);
  }

  private partitionKeys(stageId: string): string[] {
    return this.tasks.keys.stages.get(stageId)!.keys;
  }

  private all(stageId: string): Set<number> {
    return new Set(this.partitionKeys(stageId).keys());
  }

  /** The partitions of a stage's output that some consumer wants. */
  private wantedFrom(stageId: string): Set<number> {
    const wanted = new Set<number>();
    for (const e of this.plan.edges) if (e.from === stageId) for (const j of this.tasks.wants.get(channelId(e.to, e.input)) ?? []) wanted.add(j);
    return wanted;
  }

  private async record(key: string): Promise<TaskRecord | undefined> {
    const known = this.tasks.records.get(key);
    if (known || !this.store) return known;
    const record = await this.store.readRecord<TaskRecord>('task', key);
    if (record) this.tasks.records.set(key, record);
    return record;
  }

  private quarantines(stageId: string): boolean {
    return this.plan.workflow.byId.get(stageId)!.spec.onError === 'quarantine';
  }

  /** Is stage `stageId`'s partition j in the cache (with its stream, if `withStream`)? */
  private async cached(stageId: string, j: number, withStream: boolean): Promise<boolean> {
    const key = this.partitionKeys(stageId)[j];
    const record = await this.record(key);
    if (!this.store || !record || (withStream && !(await this.store.hasStream(key)))) return false;
    // Rows it quarantined are replayed into this run's quarantine file: they must be there too.
    return !(this.quarantines(stageId) && record.quarantined > 0 && !(await this.store.hasStream(rejectedKey(key))));
  }

  private async decideSink(node: StageNode) {
    const partKeys = this.tasks.keys.sinkPartitions.get(node.id);
    const read = (key: string) => (this.store ? readSinkRecord(this.store, key) : undefined);
    if (partKeys) {
      // Each partition's file on its own: only those not kept are written.
      const records: (SinkRecord | undefined)[] = [];
      for (const key of partKeys) records.push(await read(key));
      this.tasks.restorableParts.set(node.id, records);
      this.want(node, 0, new Set(records.flatMap((r, j) => (r ? [] : [j]))));
      return;
    }
    const record = await read(this.tasks.keys.sinks.get(node.id)!);
    if (record) this.tasks.restorable.set(node.id, record);
    this.want(node, 0, record ? new Set() : this.all(node.stage.inputs[0]));
  }

  private async decideReduce(node: StageNode) {
    const stage = node.stage.stage as ReduceStage;
    const decisions: Decision[] = this.partitionKeys(node.id).map(() => 'skip');
    for (const j of this.wantedFrom(node.id)) decisions[j] = (await this.cached(node.id, j, true)) ? 'replay' : 'compute';
    this.tasks.nodes.set(node.id, decisions);
    const computing = decisions.includes('compute');
    const inputs = node.stage.inputs;
    if (stage.scope(node.stage.params) === 'all') {
      inputs.forEach((from, i) => this.want(node, i, computing ? this.all(from) : new Set()));
      return;
    }
    // Scope 'partition': each computed output partition wants its own input partition, and the build inputs.
    const build = stage.buildInputs?.(node.stage.params) ?? [];
    const origins = this.tasks.keys.stages.get(node.id)!.origins!;
    inputs.forEach((from, i) => this.want(node, i, build.includes(i) && computing ? this.all(from) : new Set()));
    decisions.forEach((d, j) => {
      if (d === 'compute') this.tasks.wants.get(channelId(node.id, origins[j].input))!.add(origins[j].partition);
    });
  }

  private async decideSegment(node: SegmentNode) {
    const members = segmentMembers(node);
    const exitWants = node.exits.map((id) => this.wantedFrom(id));
    const root = node.root.kind === 'source' ? node.root.stage.id : node.root.from;
    const quarantining = members.filter((id) => this.quarantines(id));
    const decisions: Decision[] = [];
    for (const j of this.partitionKeys(root).keys()) {
      const demanded = node.exits.filter((_, x) => exitWants[x].has(j));
      if (demanded.length === 0) {
        // Rows it quarantined must reach this run's quarantine file even when nothing else is wanted.
        let rejected = false;
        for (const id of quarantining) rejected ||= ((await this.record(this.partitionKeys(id)[j]))?.quarantined ?? 0) > 0;
        decisions.push(rejected ? 'replay' : 'skip');
        continue;
      }
      let replayable = this.store !== undefined;
      for (const id of members) {
        if (!replayable) break;
        replayable = await this.cached(id, j, demanded.includes(id));
      }
      decisions.push(replayable ? 'replay' : 'compute');
    }
    this.tasks.nodes.set(node.id, decisions);
    if (node.root.kind === 'input') this.want(node, 0, new Set(decisions.flatMap((d, j) => (d === 'compute' ? [j] : []))));
  }
}

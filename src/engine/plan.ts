// From a validated workflow to what runs: segments of fused source/map stages that run in
// workers, reduce and sink stages that run on the main thread, and the edges between them.
import { createHash } from 'node:crypto';
import type { Schema } from 'apache-arrow';
import { encodeSchema } from '../arrow/ipc.ts';
import type { CatalogRef } from '../workflow/catalog.ts';
import { consumersOf } from '../workflow/graph.ts';
import type { ResolvedStage, ResolvedWorkflow } from '../workflow/validate.ts';

/** Adjacent source/map stages fused into one worker task per partition chunk. */
export interface SegmentNode {
  kind: 'segment';
  id: string;
  /** A source stage id, or the id of the reduce stage whose output feeds this segment. */
  root: { kind: 'source'; stage: ResolvedStage } | { kind: 'input'; from: string; schema: Schema };
  /** Map stages in topological order; `parent` is an index into `maps`, or -1 for the root. */
  maps: { stage: ResolvedStage; parent: number }[];
  /** Stage ids whose output leaves the segment (a source root is 'root'). */
  exits: string[];
  /** Stable identity of what the segment computes, for task ids. */
  key: string;
}

export interface StageNode {
  kind: 'reduce' | 'sink';
  id: string;
  stage: ResolvedStage;
}

export type PlanNode = SegmentNode | StageNode;

/** Data flowing from one stage's output into an input of another stage. */
export interface Edge {
  from: string;
  to: string;
  /** Which of `to`'s inputs this is. */
  input: number;
  /** Spill to disk instead of waiting, because waiting could deadlock. */
  spill: boolean;
}

export interface Plan {
  workflow: ResolvedWorkflow;
  nodes: PlanNode[];
  edges: Edge[];
  /** The node that runs each stage. */
  nodeOf: Map<string, PlanNode>;
  /** Where workers load the stages of every segment from. */
  catalog: CatalogRef;
}

/** Members of a segment, source first: the stages it runs for each partition. */
export const segmentMembers = (node: SegmentNode): string[] =>
  [...(node.root.kind === 'source' ? [node.root.stage.id] : []), ...node.maps.map((m) => m.stage.id)];

const fusable = (s: ResolvedStage) => s.stage.kind === 'map' || s.stage.kind === 'model';

export function planWorkflow(workflow: ResolvedWorkflow): Plan {
  // Segments run in workers, which must load the catalog themselves: fail before anything runs.
  const catalog = workflow.catalog.requireRef();
  const consumers = consumersOf(workflow.stages.map((s) => s.spec));
  const nodes: PlanNode[] = [];
  const nodeOf = new Map<string, PlanNode>();
  const segmentFed = new Map<string, SegmentNode>(); // reduce id -> segment rooted at its output

  for (const s of workflow.stages) {
    if (s.stage.kind === 'source') {
      const segment: SegmentNode = { kind: 'segment', id: s.id, root: { kind: 'source', stage: s }, maps: [], exits: [], key: '' };
      nodes.push(segment);
      nodeOf.set(s.id, segment);
    } else if (fusable(s)) {
      const input = workflow.byId.get(s.inputs[0])!;
      let segment = nodeOf.get(input.id);
      if (!segment || segment.kind !== 'segment') {
        segment = segmentFed.get(input.id);
        if (!segment) {
          segment = { kind: 'segment', id: `${input.id}>`, root: { kind: 'input', from: input.id, schema: input.schema }, maps: [], exits: [], key: '' };
          segmentFed.set(input.id, segment);
          nodes.push(segment);
        }
      }
      const parent = segment.maps.findIndex((m) => m.stage.id === input.id);
      segment.maps.push({ stage: s, parent });
      nodeOf.set(s.id, segment);
    } else {
      const node: StageNode = { kind: s.stage.kind as 'reduce' | 'sink', id: s.id, stage: s };
      nodes.push(node);
      nodeOf.set(s.id, node);
    }
  }

  const edges: Edge[] = [];
  for (const s of workflow.stages) {
    const node = nodeOf.get(s.id)!;
    s.inputs.forEach((from, input) => {
      if (node.kind === 'segment' && nodeOf.get(from) === node) return; // fused: no edge
      edges.push({ from, to: node.kind === 'segment' ? node.id : s.id, input, spill: false });
    });
  }
  // Segments fed by a reduce have a single edge from it (all their root maps share it).
  const unique = new Map(edges.map((e) => [`${e.from}->${e.to}`, e]));
  const planEdges = [...unique.values()];

  for (const node of nodes) {
    if (node.kind !== 'segment') continue;
    const members = new Set([node.root.kind === 'source' ? node.root.stage.id : '', ...node.maps.map((m) => m.stage.id)]);
    node.exits = [...members].filter((id) => id && (consumers.get(id) ?? []).some((c) => !members.has(c)));
    node.key = segmentKey(node, catalog);
  }
  markSpillingEdges(planEdges, nodeOf);
  return { workflow, nodes, edges: planEdges, nodeOf, catalog };
}

function segmentKey(node: SegmentNode, catalog: CatalogRef): string {
  const hash = createHash('sha256');
  // Workers keep a segment's stages by this key: another catalog may give a name other stages.
  hash.update(`${catalog.module}#${catalog.export}\n`);
  const describe = (s: ResolvedStage) => JSON.stringify([s.id, s.spec.use, s.stage.version, s.params, s.spec.onError ?? 'fail']);
  hash.update(node.root.kind === 'source' ? describe(node.root.stage) : `input:${node.root.from}`);
  // Workers keep a segment's stages by this key: a source whose schema comes from its data (CSV
  // inference) must not find another run's stages built for other types.
  hash.update(encodeSchema(node.root.kind === 'source' ? node.root.stage.schema : node.root.schema));
  for (const m of node.maps) hash.update(`${describe(m.stage)}<${m.parent}`);
  return hash.digest('hex').slice(0, 32);
}

/**
 * A stage with several inputs reads them one after another. If two of those inputs descend from
 * one producer, the producer writes both while only one is read: with bounded buffers it would wait
 * for ever. Such edges spill to disk instead.
 */
function markSpillingEdges(edges: Edge[], nodeOf: Map<string, PlanNode>) {
  const upstream = new Map<string, Set<string>>(); // node id -> ids of every node above it
  const ancestors = (nodeId: string): Set<string> => {
    const known = upstream.get(nodeId);
    if (known) return known;
    const result = new Set<string>();
    upstream.set(nodeId, result);
    for (const e of edges) {
      if (e.to !== nodeId) continue;
      const fromNode = nodeOf.get(e.from)!.id;
      result.add(fromNode);
      for (const a of ancestors(fromNode)) result.add(a);
    }
    return result;
  };
  const byTarget = new Map<string, Edge[]>();
  for (const e of edges) byTarget.set(e.to, [...(byTarget.get(e.to) ?? []), e]);
  for (const inbound of byTarget.values()) {
    if (inbound.length < 2) continue;
    const lines = inbound.map((e) => new Set([nodeOf.get(e.from)!.id, ...ancestors(nodeOf.get(e.from)!.id)]));
    inbound.forEach((e, i) => {
      if (lines.some((other, j) => j !== i && [...lines[i]].some((id) => other.has(id)))) e.spill = true;
    });
  }
}

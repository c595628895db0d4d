// The stage DAG: order, cycles, and pictures of it (Mermaid, Graphviz dot).
import { inputsOf, type StageSpec } from './types.ts';

/** A cycle as its ids, first id repeated at the end (`a -> b -> c -> a`), or undefined. */
export function findCycle(stages: StageSpec[]): string[] | undefined {
  const byId = new Map(stages.map((s) => [s.id, s]));
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'open') return [...path.slice(path.indexOf(id)), id];
    state.set(id, 'open');
    path.push(id);
    // Walk from a stage to its inputs, then reverse, so the cycle reads in data-flow order.
    for (const input of inputsOf(byId.get(id)!)) {
      if (!byId.has(input)) continue;
      const cycle = visit(input);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const stage of stages) {
    const cycle = visit(stage.id);
    if (cycle) return cycle.reverse();
  }
  return undefined;
}

/** Stage ids with every stage after its inputs; ties keep file order. Assumes no cycle. */
export function topologicalOrder(stages: StageSpec[]): string[] {
  const done = new Set<string>();
  const order: string[] = [];
  const byId = new Map(stages.map((s) => [s.id, s]));
  const visit = (id: string) => {
    if (done.has(id) || !byId.has(id)) return;
    done.add(id);
    for (const input of inputsOf(byId.get(id)!)) visit(input);
    order.push(id);
  };
  stages.forEach((s) => visit(s.id));
  return order;
}

/** Consumers of each stage, in file order. */
export function consumersOf(stages: StageSpec[]): Map<string, string[]> {
  const consumers = new Map<string, string[]>(stages.map((s) => [s.id, []]));
  for (const stage of stages) for (const input of inputsOf(stage)) consumers.get(input)?.push(stage.id);
  return consumers;
}

const label = (s: StageSpec) => `${s.id}\\n${s.use}`;

export function toMermaid(stages: StageSpec[]): string {
  const safe = (id: string) => id.replace(/[^A-Za-z0-9_]/g, '_');
  const lines = ['flowchart LR'];
  for (const s of stages) lines.push(`  ${safe(s.id)}["${s.id}<br/><small>${s.use}</small>"]`);
  for (const s of stages) for (const input of inputsOf(s)) lines.push(`  ${safe(input)} --> ${safe(s.id)}`);
  return lines.join('\n');
}

export function toDot(stages: StageSpec[], name = 'workflow'): string {
  const q = (text: string) => JSON.stringify(text);
  const lines = [`digraph ${q(name)} {`, '  rankdir=LR;', '  node [shape=box, fontname="Helvetica"];'];
  for (const s of stages) lines.push(`  ${q(s.id)} [label=${q(label(s)).replace(/\\\\n/g, '\\n')}];`);
  for (const s of stages) for (const input of inputsOf(s)) lines.push(`  ${q(input)} -> ${q(s.id)};`);
  lines.push('}');
  return lines.join('\n');
}

// The layering README's Layout section describes (DESIGN.md §2), checked on the sources as they are:
// which folders may import which, no cycles between folders, stage domains independent of each
// other, the stage contract free of the project, and the engine's functions short.
import { describe, expect, test } from 'vitest';
import { folderOf, sourceTree } from './source-tree.ts';

const files = sourceTree();
const edges = files.flatMap((f) => f.imports.map((to) => ({ from: f.path, to })));
/** Every cycle a depth-first walk of `graph` meets, as 'a -> b -> a'. */
function cycles(graph: Map<string, Set<string>>): string[] {
  const found: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const walk = (node: string, path: string[]) => {
    if (state.get(node) === 'done') return;
    if (state.get(node) === 'open') {
      found.push([...path.slice(path.indexOf(node)), node].join(' -> '));
      return;
    }
    state.set(node, 'open');
    for (const next of graph.get(node) ?? []) walk(next, [...path, node]);
    state.set(node, 'done');
  };
  for (const node of graph.keys()) walk(node, []);
  return found;
}

const under = (path: string, ...folders: string[]) => folders.some((f) => path === f || path.startsWith(`${f}/`));

describe('layers point one way', () => {
  test('the sources were found and parsed', () => {
    expect(files.length).toBeGreaterThan(200);
    expect(files.find((f) => f.path === 'src/engine/runner.ts')?.imports).toContain('src/engine/channel.ts');
  });

  test('storage, files, records, observation and formats import neither the engine nor the stages', () => {
    const backwards = edges.filter((e) => under(e.from, 'src/cache', 'src/observe', 'src/provenance', 'src/io', 'connectors') && under(e.to, 'src/engine', 'src/stages'));
    expect(backwards.map((e) => `${e.from} -> ${e.to}`)).toEqual([]);
  });

  test('no stage domain imports another', () => {
    const domainOf = (path: string) => (/^src\/stages\/([^/]+)\//.exec(path) ?? [])[1];
    const across = edges.filter((e) => domainOf(e.from) && domainOf(e.to) && domainOf(e.from) !== domainOf(e.to));
    expect(across.map((e) => `${e.from} -> ${e.to}`)).toEqual([]);
  });

  test('workers run what the task names: they import no stage', () => {
    expect(edges.filter((e) => under(e.from, 'workers') && under(e.to, 'src/stages')).map((e) => e.to)).toEqual([]);
  });

  test('the stage contract (workflow/stage.ts, workflow/errors.ts) imports nothing of the project, so every layer may use it', () => {
    const contract = ['src/workflow/stage.ts', 'src/workflow/errors.ts'];
    expect(files.filter((f) => contract.includes(f.path)).flatMap((f) => f.imports)).toEqual([]);
  });

  test('no import cycles between folders', () => {
    const graph = new Map<string, Set<string>>();
    for (const e of edges) {
      const [a, b] = [folderOf(e.from), folderOf(e.to)];
      if (a !== b) graph.set(a, (graph.get(a) ?? new Set()).add(b));
    }
    expect(cycles(graph)).toEqual([]);
  });

  test('no import cycles between the engine\'s files', () => {
    const graph = new Map<string, Set<string>>();
    for (const e of edges) if (under(e.from, 'src/engine') && under(e.to, 'src/engine')) graph.set(e.from, (graph.get(e.from) ?? new Set()).add(e.to));
    expect(cycles(graph)).toEqual([]);
  });
});

test('no function in src/engine is longer than 80 lines', () => {
  const long = files.filter((f) => under(f.path, 'src/engine')).flatMap((f) =>
    f.functions.filter((fn) => fn.lines > 80).map((fn) => `${f.path}:${fn.line} ${fn.name} (${fn.lines} lines)`));
  expect(long).toEqual([]);
});

// Module hooks for compiled runs that import TypeScript (a workflow's stage file): an import of
// one of quiver's own source files (src/, connectors/, workers/) resolves to its compiled twin in
// dist/, so that the stage and the engine share one copy of each module (its classes, for
// `instanceof`). Plain JavaScript: registered by own-code.ts beside tsx's loader.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let root = '';
let dist = '';

export function initialize(data) {
  ({ root, dist } = data);
}

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  if (!result.url.startsWith(root) || !/\.[cm]?tsx?$/.test(result.url)) return result;
  const relative = result.url.slice(root.length);
  if (!/^(?:src|connectors|workers)\//.test(relative)) return result;
  const twin = dist + relative.replace(/\.[cm]?tsx?$/, '.js');
  return existsSync(fileURLToPath(twin)) ? { url: twin, format: 'module', shortCircuit: true } : result;
}

// Where quiver's own files are, whether it runs from its TypeScript sources (tsx, vitest) or from
// the JavaScript `npm run build` wrote into dist/ (same tree: dist/src, dist/connectors,
// dist/workers); and importing a module that may be TypeScript (a workflow's stage file, a
// catalog module) from compiled code, where TypeScript support is registered only when needed.
import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { fileURLToPath } from 'node:url';

/** True when this code runs from dist/ (compiled), false when it runs from the sources. */
export const compiled = !/\.[cm]?tsx?$/.test(import.meta.url);

/** The package root (package.json, src/, workers/…), as a file URL ending in '/'. */
export const packageRoot = new URL(compiled ? '../../../' : '../../', import.meta.url);

/** The root of the code that runs: the package root from the sources, dist/ when compiled. */
export const codeRoot = new URL('../../', import.meta.url);

const typeScriptFile = /\.(?:[cm]?ts|tsx)$/;
let typeScript: Promise<void> | undefined;

/**
 * `import(url)`. From compiled code, a TypeScript module (`./stages.ts#fn`) first registers tsx's
 * loader in this thread, once: compiled runs that import no TypeScript never load tsx. A module
 * of quiver's own sources, imported here or by such a TypeScript module, is imported from dist/
 * instead (its compiled twin, which the bin found up to date), so that a thread does not load
 * quiver twice (two InputError classes, two StageCatalogs).
 */
export async function importModule(url: string): Promise<Record<string, unknown>> {
  if (compiled && typeScriptFile.test(new URL(url).pathname)) {
    const twin = compiledTwin(url);
    if (twin) return import(twin) as Promise<Record<string, unknown>>;
    typeScript ??= import('tsx/esm/api').then((tsx) => {
      tsx.register();
      // Registered after tsx, so it resolves first: quiver's own sources → dist/.
      register(new URL('src/workflow/own-code-hooks.mjs', packageRoot), { data: { root: packageRoot.href, dist: codeRoot.href } });
    });
    await typeScript;
  }
  return import(url) as Promise<Record<string, unknown>>;
}

/** dist/…/x.js for a file URL of quiver's own sources (src/, connectors/, workers/) that was compiled. */
function compiledTwin(url: string): string | undefined {
  const root = packageRoot.href;
  if (!url.startsWith(root)) return undefined;
  const relative = url.slice(root.length);
  if (!/^(?:src|connectors|workers)\//.test(relative)) return undefined;
  const twin = new URL(relative.replace(typeScriptFile, '.js'), codeRoot);
  return existsSync(fileURLToPath(twin)) ? twin.href : undefined;
}

// Module resolution for stage files unpacked from a stage bundle (src/engine/executors/stage-bundle.ts)
// into BUNDLES/SHA/files: a relative import inside the bundle resolves as usual; one that left the
// workflow folder on the coordinator and landed in quiver there (`../../src/workflow/stage.ts`)
// resolves to the same file of this quiver; a package (`apache-arrow`, `quiver/src/...`) resolves
// as this quiver sees it, so stage code shares quiver's own modules. Anything else that left the
// folder was not shipped: it fails, saying so. Imports from any other module are left alone.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve as resolvePath, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const quiverRoot = fileURLToPath(new URL('..', import.meta.url));
const asQuiver = pathToFileURL(join(quiverRoot, 'package.json')).href;
let bundles;
/** Where each bundle's folder and quiver were on the coordinator (origin.json), by sha256. */
const origins = new Map();

export function initialize(data) {
  bundles = data.bundles;
}

const inside = (path, root) => {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

export async function resolve(specifier, context, nextResolve) {
  const parent = context.parentURL?.startsWith('file:') ? fileURLToPath(context.parentURL) : undefined;
  if (!parent || !inside(parent, bundles)) return nextResolve(specifier, context);
  const sha = relative(bundles, parent).split(sep)[0];
  const files = join(bundles, sha, 'files');
  if (specifier.startsWith('./') || specifier.startsWith('../')) {
    const target = resolvePath(dirname(parent), specifier.split(/[?#]/)[0]);
    let origin = origins.get(sha);
    if (!origin) origins.set(sha, (origin = JSON.parse(readFileSync(join(bundles, sha, 'origin.json'), 'utf8'))));
    // Where the import led on the coordinator. Quiver is never shipped (a folder holding it is packed without it).
    const there = resolvePath(origin.root, relative(files, target));
    const inQuiver = inside(there, origin.quiver);
    if (inside(target, files) && (!inQuiver || inside(origin.root, origin.quiver))) return nextResolve(specifier, context);
    if (inQuiver) return nextResolve(pathToFileURL(join(quiverRoot, relative(origin.quiver, there))).href, context);
    throw new Error(`${parent} imports '${specifier}' (${there} on the coordinator), which is outside the workflow folder shipped to workers `
      + 'and outside quiver: a stage file may import files of its workflow folder, packages, and quiver itself');
  }
  if (specifier.startsWith('quiver/')) return nextResolve(pathToFileURL(join(quiverRoot, specifier.slice('quiver/'.length))).href, context);
  if (/^[@\w]/.test(specifier) && !specifier.includes(':')) {
    try {
      return await nextResolve(specifier, { ...context, parentURL: asQuiver });
    } catch (error) {
      if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
      throw new Error(`${parent} imports the package '${specifier}', which the quiver of this worker (${quiverRoot}) does not have: install it there`);
    }
  }
  return nextResolve(specifier, context);
}

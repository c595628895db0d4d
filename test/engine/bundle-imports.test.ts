// How a worker thread resolves the imports of a stage file unpacked from a bundle
// (workers/bundle-imports.mjs), called here as Node calls a resolve hook.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, expect, test } from 'vitest';
// @ts-expect-error: a plain JavaScript module (it runs on Node's loader thread, without tsx)
import { initialize, resolve } from '../../workers/bundle-imports.mjs';
import { repoRoot, scratchDir } from '../helpers.ts';

const bundles = scratchDir('quiver-imports-');
const sha = 'a'.repeat(64);
const stageFile = pathToFileURL(join(bundles, sha, 'files', 'stages.ts')).href;
/** What the hook hands on: the specifier and the parent it resolves against. */
const next = async (specifier: string, context: { parentURL?: string }) => ({ specifier, parentURL: context.parentURL });
const resolveFrom = (specifier: string, parentURL = stageFile) => resolve(specifier, { parentURL, conditions: [] }, next);

beforeAll(() => {
  mkdirSync(join(bundles, sha, 'files'), { recursive: true });
  // On the coordinator, the workflow folder was /coordinator/quiver/flows/wf, inside its quiver.
  writeFileSync(join(bundles, sha, 'origin.json'), JSON.stringify({ root: '/coordinator/quiver/flows/wf', quiver: '/coordinator/quiver' }));
  initialize({ bundles });
});

test('an import inside the bundle resolves as usual', async () => {
  expect(await resolveFrom('./lib/helper.ts')).toEqual({ specifier: './lib/helper.ts', parentURL: stageFile });
});

test("an import that led into the coordinator's quiver resolves to the same file of this worker's quiver", async () => {
  expect(await resolveFrom('../../src/workflow/stage.ts')).toMatchObject({ specifier: pathToFileURL(join(repoRoot, 'src/workflow/stage.ts')).href });
  expect(await resolveFrom('quiver/src/arrow/ipc.ts')).toMatchObject({ specifier: pathToFileURL(join(repoRoot, 'src/arrow/ipc.ts')).href });
});

test("packages resolve as this worker's quiver sees them", async () => {
  expect(await resolveFrom('apache-arrow')).toEqual({ specifier: 'apache-arrow', parentURL: pathToFileURL(join(repoRoot, 'package.json')).href });
  expect(await resolveFrom('node:fs')).toEqual({ specifier: 'node:fs', parentURL: stageFile });
});

test('an import that left both the workflow folder and quiver was not shipped: it fails, saying so', async () => {
  await expect(resolveFrom('../../../shared/util.ts')).rejects.toThrow(
    "imports '../../../shared/util.ts' (/coordinator/shared/util.ts on the coordinator), which is outside the workflow folder shipped to workers and outside quiver");
});

test('a folder that held quiver was shipped without it: imports into it resolve to this worker\'s quiver', async () => {
  const other = 'b'.repeat(64);
  mkdirSync(join(bundles, other, 'files'), { recursive: true });
  writeFileSync(join(bundles, other, 'origin.json'), JSON.stringify({ root: '/project', quiver: '/project/quiver' }));
  const parentURL = pathToFileURL(join(bundles, other, 'files', 'stages.ts')).href;
  expect(await resolveFrom('./quiver/src/workflow/stage.ts', parentURL)).toMatchObject({ specifier: pathToFileURL(join(repoRoot, 'src/workflow/stage.ts')).href });
  expect(await resolveFrom('./lib/helper.ts', parentURL)).toEqual({ specifier: './lib/helper.ts', parentURL });
});

test('imports from modules outside the bundles are left alone', async () => {
  const elsewhere = pathToFileURL(join(repoRoot, 'src/index.ts')).href;
  expect(await resolveFrom('../../elsewhere.ts', elsewhere)).toEqual({ specifier: '../../elsewhere.ts', parentURL: elsewhere });
});

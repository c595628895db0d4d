// `npm run build` (and `prepare`, which `npm ci` and `npm install` run): compiles quiver's
// TypeScript (src/, connectors/, workers/) into dist/, the same tree, so that `quiver` and its
// worker threads start without compiling TypeScript (src/cli/quiver.mjs uses dist/ when it is up
// to date). dist/build-stamp.json lists every source file with its size and mtime: the bin
// compares it with the sources and runs them (through tsx) when they differ.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sourceStamp } from '../src/cli/build-stamp.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  // An install without devDependencies: quiver runs from its sources (tsx), only slower to start.
  console.warn('quiver build: typescript is not installed; quiver will run from its TypeScript sources');
  process.exit(0);
}
const stamp = sourceStamp(root); // before compiling: an edit made meanwhile makes the build stale
rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
writeFileSync(join(dist, 'build-stamp.json'), JSON.stringify(stamp));

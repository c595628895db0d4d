#!/usr/bin/env node
// The `quiver` command. quiver is written in TypeScript. `npm ci` / `npm install` compile it into
// dist/ (scripts/build.mjs, the `prepare` script); the command runs that JavaScript when dist/ was
// built from exactly the sources here (dist/build-stamp.json: every source file's size and mtime).
// Otherwise (no build, or a source edited since: stale compiled code must never run) it runs the
// sources through tsx, as before, slower to start; `npm run build` brings dist/ up to date.
// QUIVER_FROM_SOURCE=1 runs the sources regardless.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sourceStamp } from './build-stamp.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));

function builtStamp() {
  try {
    return readFileSync(`${root}dist/build-stamp.json`, 'utf8');
  } catch {
    return undefined;
  }
}

// Output piped into a reader that stopped early (`quiver runs | head`): stop quietly, as Unix tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

let main;
const built = process.env.QUIVER_FROM_SOURCE === '1' ? undefined : builtStamp();
if (built !== undefined && JSON.parse(built) === sourceStamp(root)) {
  ({ main } = await import('../../dist/src/cli/main.js'));
} else {
  if (built !== undefined && process.stderr.isTTY) {
    process.stderr.write('quiver: dist/ is older than the sources, so they run through tsx (slower to start); `npm run build` updates it\n');
  }
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('./main.ts'));
}
process.exitCode = await main(process.argv.slice(2));

// What dist/ was compiled from: every file under src/, connectors/ and workers/, plus the
// tsconfig files and package.json, each with its size and mtime. scripts/build.mjs writes it into
// dist/build-stamp.json; the bin (quiver.mjs) recomputes it at every start (a few ms: stat calls
// only) and uses dist/ only when the two are equal. Plain JavaScript: it runs before tsx.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const folders = ['src', 'connectors', 'workers'];
const files = ['package.json', 'tsconfig.json', 'tsconfig.build.json'];

/** `relative path size mtimeMs` per file, sorted, one string. */
export function sourceStamp(root) {
  const paths = [...files];
  for (const folder of folders) {
    for (const entry of readdirSync(join(root, folder), { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) paths.push(join(entry.parentPath ?? entry.path, entry.name).slice(root.length + (root.endsWith('/') ? 0 : 1)));
    }
  }
  return paths.sort().map((path) => {
    const stats = statSync(join(root, path));
    return `${path} ${stats.size} ${stats.mtimeMs}`;
  }).join('\n');
}

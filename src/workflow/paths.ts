// Where a workflow may read: inside its own folder, the run's output folder, or a folder the user
// allowed with --allow-path. A path that leads elsewhere (`..`, an absolute path) is refused before
// anything is read, so a workflow file from someone else cannot read the rest of the machine.
import { isAbsolute, relative, resolve, sep } from 'node:path';

const globMagic = /[*?[\]{}()!]/;

/** The folder part of a path or glob that is fixed (before the first wildcard). */
function fixedPart(pattern: string): string {
  const parts = pattern.split(/[\\/]/);
  const fixed: string[] = [];
  for (const part of parts) {
    if (globMagic.test(part)) break;
    fixed.push(part);
  }
  return fixed.join(sep) || '.';
}

export const isInside = (path: string, root: string) => {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

/** Why `pattern` (relative to `baseDir`) may not be read, or undefined when it may. */
export function pathOutside(pattern: string, baseDir: string, allowed: string[]): string | undefined {
  const target = resolve(baseDir, fixedPart(pattern));
  if ([baseDir, ...allowed].some((root) => isInside(target, resolve(root)))) return undefined;
  return `'${pattern}' leads outside the workflow's folder (${baseDir}); ` +
    `to read there, allow it: --allow-path ${relative(process.cwd(), target) || '.'}`;
}

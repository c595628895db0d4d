// Where a workflow may read: inside its own folder, the run's output folder, or a folder the user
// allowed with --allow-path. Paths are judged twice: by their text before anything is looked at
// (`..`, absolute paths), and by their real path (links followed) before a file is opened or a
// stage file imported, so a link inside the folder cannot lead a workflow to the rest of the machine.
// An S3 input (`s3://bucket/...`) needs an allowed `s3://bucket[/prefix]` of its own (io/s3-url.ts).
import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { isS3, s3PathOutside } from '../io/s3-url.ts';

const globMagic = /[*?[\]{}()!]/;

/** The folder part of a path or glob that is fixed (before the first wildcard). */
export function fixedPart(pattern: string): string {
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

/**
 * `path` absolute with every link followed. For a path that does not exist (yet), its nearest
 * existing folder's real path joined with the rest; a dangling link is followed to where it points.
 */
export function realPath(path: string): string {
  const absolute = resolve(path);
  try {
    return realpathSync.native(absolute);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const parent = dirname(absolute);
  if (parent === absolute) return absolute;
  if (lstatSync(absolute, { throwIfNoEntry: false })?.isSymbolicLink()) return realPath(resolve(parent, readlinkSync(absolute)));
  return join(realPath(parent), basename(absolute));
}

/** The real paths of the folders a workflow in `baseDir` may read, given the others it is allowed. */
export const readRoots = (baseDir: string, allowed: string[]): string[] => [baseDir, ...allowed.filter((a) => !isS3(a))].map(realPath);

/** Why `pattern` (relative to `baseDir`) may not be read, or undefined when its text is fine. */
export function pathOutside(pattern: string, baseDir: string, allowed: string[]): string | undefined {
  if (isS3(pattern)) return s3PathOutside(pattern, allowed);
  const fixed = fixedPart(pattern);
  if (pattern.split(/[\\/]/).slice(fixed === '.' ? 0 : fixed.split(sep).length).includes('..')) {
    return `'${pattern}' has '..' after a wildcard, which could lead anywhere; write the folder before the wildcard`;
  }
  const target = resolve(baseDir, fixed);
  if ([baseDir, ...allowed.filter((a) => !isS3(a))].some((root) => isInside(target, resolve(root)))) return undefined;
  return `'${pattern}' leads outside the workflow's folder (${baseDir}); ` +
    `to read there, allow it: --allow-path ${relative(process.cwd(), target) || '.'}`;
}

/** Why the file at `path` (shown as `shown`) may not be read, or undefined: its real path must lie in one of `roots`. */
export function realPathOutside(path: string, shown: string, roots: string[]): string | undefined {
  const real = realPath(path);
  if (roots.some((root) => isInside(real, root))) return undefined;
  return `'${shown}' leads to ${real}, outside the folders this workflow may read (${roots.join(', ')}); ` +
    `to read there, allow it: --allow-path ${dirname(real)}`;
}

/**
 * Why a run writing to `out` may not read what `pattern` (relative to `baseDir`) matched, `files`,
 * or undefined: the output folder may neither hold the folder a source reads nor a file it matched.
 */
export function outOverlap(out: string, pattern: string, baseDir: string, files: string[]): string | undefined {
  if (isS3(pattern)) return undefined; // the output folder is local
  const realOut = realPath(out);
  const read = realPath(resolve(baseDir, fixedPart(pattern)));
  if (isInside(read, realOut)) {
    return `the output folder ${out} holds '${pattern}' (${read}), which this source reads: the run would overwrite its own input; choose an --out outside it`;
  }
  const file = files.find((f) => isInside(realPath(f), realOut));
  if (file) return `'${pattern}' matches ${file}, inside the output folder ${out}: the run would read what it writes; narrow the pattern or choose an --out elsewhere`;
  return undefined;
}

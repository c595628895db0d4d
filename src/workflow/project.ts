// The project file, `quiver.yaml`: found by walking up from a workflow file's folder (the first one
// found wins; the walk stops at the filesystem root). It names the data folders the workflows below
// it may read besides their own (as --allow-path does) and defaults for the command line:
//
//   allowPaths: [data, ../shared/data]   # relative to this file; s3://bucket/prefix allowed too
//   defaults: { out: out, workers: 4 }   # out relative to this file
//
// It only widens access to folders it names itself: each is resolved against the project file's
// folder, and none may be the filesystem root (nor lead there through a link), have wildcards, or be
// empty. Unknown keys are refused, and every problem names the file and line.
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, parse, resolve } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Node } from 'yaml';
import { z } from 'zod';
import { realPath } from './paths.ts';
import { isS3 } from './s3-url.ts';

export const projectFileName = 'quiver.yaml';

export interface Project {
  /** The project file, absolute. */
  file: string;
  /** Folders (absolute) and S3 prefixes the workflows below it may read. */
  allowPaths: string[];
  defaults: { out?: string; workers?: number };
}

/** A project file that cannot be used: the message starts with the file and line. */
export class ProjectFileError extends Error {
  constructor(readonly file: string, readonly line: number | undefined, message: string) {
    super(`${file}${line ? `:${line}` : ''}: project file: ${message}`);
    this.name = 'ProjectFileError';
  }
}

const projectSchema = z.object({
  allowPaths: z.array(z.string()).optional(),
  defaults: z.object({
    out: z.string().min(1).optional(),
    workers: z.number().int().min(1).optional(),
  }).strict().optional(),
}).strict();

/** The nearest `quiver.yaml` at or above `dir`, or undefined. */
export function findProjectFile(dir: string): string | undefined {
  let at = resolve(dir);
  for (;;) {
    const candidate = join(at, projectFileName);
    const found = statSync(candidate, { throwIfNoEntry: false });
    if (found?.isDirectory()) throw new ProjectFileError(candidate, undefined, 'is a folder; a project file is a YAML file');
    if (found) return candidate;
    const parent = dirname(at);
    if (parent === at) return undefined;
    at = parent;
  }
}

/** The project of the workflow file `workflowFile` (the nearest project file above it), or undefined. */
export function projectOf(workflowFile: string): Project | undefined {
  const file = findProjectFile(dirname(resolve(workflowFile)));
  return file ? loadProjectFile(file) : undefined;
}

const cache = new Map<string, Project>();

/** A project file read and checked; throws ProjectFileError naming the file and line. */
export function loadProjectFile(file: string): Project {
  const path = resolve(file);
  const known = cache.get(path);
  if (known) return known;
  const project = parseProject(readFileSync(path, 'utf8'), path);
  cache.set(path, project);
  return project;
}

export function parseProject(text: string, file: string): Project {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  const lineOfOffset = (offset: number | undefined) => (offset === undefined ? undefined : lineCounter.linePos(offset).line);
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw new ProjectFileError(file, e.linePos?.[0]?.line, `YAML: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  // The line of a key path, for messages: the key's own line where it is a key, else its value's.
  const lineOf = (path: (string | number)[]): number | undefined => {
    for (let n = path.length; n > 0; n--) {
      const parentNode = n === 1 ? doc.contents : doc.getIn(path.slice(0, n - 1), true);
      const key = path[n - 1];
      if (isMap(parentNode)) {
        const pair = parentNode.items.find((p) => isScalar(p.key) && p.key.value === key);
        if (pair) return lineOfOffset((pair.key as Node).range?.[0]);
      }
      const node = doc.getIn(path.slice(0, n), true) as Node | undefined;
      if (node?.range) return lineOfOffset(node.range[0]);
    }
    return lineOfOffset((doc.contents as Node | null)?.range?.[0]);
  };
  const raw = doc.toJS({ maxAliasCount: 10 }) ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ProjectFileError(file, lineOf([]), 'expected keys (allowPaths, defaults), not a list or a single value');
  const parsed = projectSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
    if (issue.code === 'unrecognized_keys') {
      const key = issue.keys[0];
      const allowed = path.length === 0 ? 'allowPaths, defaults' : 'out, workers';
      throw new ProjectFileError(file, lineOf([...path, key]), `unknown key '${[...path, key].join('.')}' (known keys: ${allowed})`);
    }
    throw new ProjectFileError(file, lineOf(path), `'${path.join('.')}': ${issue.message}`);
  }
  const dir = dirname(file);
  const allowPaths = (parsed.data.allowPaths ?? []).map((entry, i) => {
    const refuse = (why: string) => { throw new ProjectFileError(file, lineOf(['allowPaths', i]), `allowPaths entry '${entry}' ${why}`); };
    if (entry.trim() === '') refuse('is empty; name a folder');
    if (isS3(entry)) {
      if (!/^s3:\/\/[^/]+/.test(entry)) refuse('names no bucket (s3://bucket or s3://bucket/prefix)');
      return entry;
    }
    if (/[*?[\]{}]/.test(entry)) refuse('has wildcards; name a folder');
    const target = resolve(dir, entry);
    if (parse(target).root === target) refuse(`is the filesystem root (${target}), which would let every workflow below ${dir} read the whole machine; name the data folder`);
    const real = realPath(target);
    if (parse(real).root === real) refuse(`leads to the filesystem root (${target} → ${real}); name the data folder`);
    return target;
  });
  const defaults = { ...parsed.data.defaults };
  if (defaults.out !== undefined) defaults.out = resolve(dir, defaults.out);
  return { file, allowPaths, defaults };
}

// The project file (workflow/project.ts) as the commands apply it: its allowed folders join those of
// --allow-path (and are recorded with them in the run record), its defaults apply where no flag is
// given, and --no-project leaves it out altogether.
import { dirname, resolve } from 'node:path';
import { findProjectFile, loadProjectFile, type Project } from '../workflow/project.ts';

export const projectFlags = {
  'no-project': { type: 'boolean', default: false },
} as const;

/** The project of a workflow file (or of a folder of them), unless --no-project. */
export function projectFor(target: string, values: { 'no-project'?: boolean }, isFolder = false): Project | undefined {
  if (values['no-project']) return undefined;
  const file = findProjectFile(isFolder ? resolve(target) : dirname(resolve(target)));
  return file ? loadProjectFile(file) : undefined;
}

/** The folders a workflow may read: the flags' first, then the project file's. */
export function allowPathsWith(project: Project | undefined, flags: string[] | undefined): string[] | undefined {
  if (!project || project.allowPaths.length === 0) return flags;
  return [...(flags ?? []), ...project.allowPaths.filter((p) => !(flags ?? []).some((f) => resolve(f) === p))];
}

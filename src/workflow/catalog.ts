// Finds the stage a workflow `use`s: a built-in name, or a stage exported by a file
// (`./my-stage.ts#normalise`, relative to the workflow file).
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isStage, type Stage } from './stage.ts';

export class StageCatalog {
  private readonly builtins = new Map<string, Stage>();

  constructor(stages: Stage[]) {
    for (const stage of stages) {
      if (this.builtins.has(stage.name)) throw new Error(`two built-in stages are named '${stage.name}'`);
      this.builtins.set(stage.name, stage);
    }
  }

  names(): string[] {
    return [...this.builtins.keys()].sort();
  }

  all(): Stage[] {
    return [...this.builtins.values()];
  }

  static isFileReference(use: string): boolean {
    return use.startsWith('./') || use.startsWith('../') || use.startsWith('/') || use.startsWith('file:');
  }

  /** The file a file reference (`./stages.ts#name`) points at, absolute. */
  static stageFile(use: string, baseDir: string): string {
    const file = use.split('#')[0];
    return file.startsWith('file:') ? new URL(file).pathname : isAbsolute(file) ? file : resolve(baseDir, file);
  }

  /** The stage for `use`; throws an Error whose message says why none was found. */
  async resolve(use: string, baseDir: string): Promise<Stage> {
    if (!StageCatalog.isFileReference(use)) {
      const stage = this.builtins.get(use);
      if (stage) return stage;
      const near = closest(use, this.names());
      throw new Error(`unknown stage '${use}'${near ? ` (did you mean '${near}'?)` : ''}`);
    }
    const [file, exportName = 'default'] = use.split('#');
    const path = StageCatalog.stageFile(use, baseDir);
    if (!existsSync(path)) throw new Error(`stage file '${file}' does not exist (looked for ${path})`);
    const module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    const stage = module[exportName];
    if (stage === undefined) {
      const exported = Object.keys(module).filter((k) => isStage(module[k]));
      throw new Error(`stage file '${file}' has no export '${exportName}' (stages it exports: ${exported.join(', ') || 'none'})`);
    }
    if (!isStage(stage)) throw new Error(`'${use}' is not a stage (export an object made with defineMap, defineReduce, ...)`);
    return stage;
  }
}

/** The known name nearest to `name` by edit distance, if it is near enough to be a typo. */
function closest(name: string, names: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of names) {
    const d = editDistance(name, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 4)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

// Finds the stage a workflow `use`s: a built-in name, or a stage exported by a file
// (`./my-stage.ts#normalise`, relative to the workflow file). A catalog also says which module
// exports it, so that worker threads, which share no objects with the main thread, can load it.
// A catalog may hold loaders instead of stages (`StageCatalog.lazy`): a stage's module is then
// imported only when a workflow uses it (the built-in one: src/stages/catalog.ts).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { importModule } from './own-code.ts';
import { isStage, type Stage } from './stage.ts';

/** Imports the module that exports one stage, and returns that stage. */
export type StageLoader = () => Promise<Stage>;

/** Where a catalog is exported: `module` is a file URL (`import.meta.url`), `export` the name. */
export interface CatalogRef {
  module: string;
  export: string;
}

/** Modules that export catalogs, by URL: a worker imports each once. */
const catalogModules = new Map<string, Promise<Record<string, unknown>>>();

export class StageCatalog {
  private readonly builtins = new Map<string, StageLoader>();

  /** Without `ref` the catalog serves validation only: workers cannot find it. */
  constructor(stages: Stage[], readonly ref?: CatalogRef) {
    for (const stage of stages) this.add(stage.name, async () => stage);
  }

  /** A catalog whose stages are imported on first use: `loaders` maps each name to its loader. */
  static lazy(loaders: Record<string, StageLoader>, ref?: CatalogRef): StageCatalog {
    const catalog = new StageCatalog([], ref);
    for (const [name, load] of Object.entries(loaders)) {
      let loaded: Promise<Stage> | undefined;
      catalog.add(name, () => {
        loaded ??= load().then((stage) => {
          if (stage.name !== name) throw new Error(`the stage catalog's loader for '${name}' gave the stage '${stage.name}'`);
          return stage;
        });
        loaded.catch(() => { loaded = undefined; });
        return loaded;
      });
    }
    return catalog;
  }

  private add(name: string, load: StageLoader): void {
    if (this.builtins.has(name)) throw new Error(`two built-in stages are named '${name}'`);
    this.builtins.set(name, load);
  }

  /** The catalog `ref` names, imported where it is needed: in a worker thread (or process). */
  static async load(ref: CatalogRef): Promise<StageCatalog> {
    let module = catalogModules.get(ref.module);
    if (!module) {
      module = importModule(ref.module);
      catalogModules.set(ref.module, module);
      module.catch(() => catalogModules.delete(ref.module));
    }
    const catalog = (await module)[ref.export];
    // Duck-typed: a catalog module of TypeScript (a test's) may bring its own copy of this class.
    if (!(catalog instanceof StageCatalog) && !isCatalog(catalog)) throw new Error(`${ref.module} exports no stage catalog named '${ref.export}'`);
    return catalog as StageCatalog;
  }

  /** `ref`, which running a workflow in workers needs; an Error saying how to give one if absent. */
  requireRef(): CatalogRef {
    if (this.ref) return this.ref;
    throw new Error('this stage catalog has no module reference, so worker threads cannot load it: in the module that exports it, '
      + "construct it as new StageCatalog(stages, { module: import.meta.url, export: 'NAME' }), NAME being the name it is exported as");
  }

  names(): string[] {
    return [...this.builtins.keys()].sort();
  }

  /** Every stage, each module imported (a lazy catalog's included). */
  async all(): Promise<Stage[]> {
    return Promise.all([...this.builtins.values()].map((load) => load()));
  }

  /** A stage file path (`./stages.ts#name`); `file:` URLs are not one (validation refuses them). */
  static isFileReference(use: string): boolean {
    return use.startsWith('./') || use.startsWith('../') || use.startsWith('/');
  }

  /** The file a file reference (`./stages.ts#name`) points at, absolute. */
  static stageFile(use: string, baseDir: string): string {
    return resolve(baseDir, use.split('#')[0]);
  }

  /** The stage for `use`; throws an Error whose message says why none was found. */
  async resolve(use: string, baseDir: string): Promise<Stage> {
    if (!StageCatalog.isFileReference(use)) {
      const load = this.builtins.get(use);
      if (load) return load();
      const near = closest(use, this.names());
      throw new Error(`unknown stage '${use}'${near ? ` (did you mean '${near}'?)` : ''}`);
    }
    const [file, exportName = 'default'] = use.split('#');
    const path = StageCatalog.stageFile(use, baseDir);
    if (!existsSync(path)) throw new Error(`stage file '${file}' does not exist (looked for ${path})`);
    const module = await importModule(pathToFileURL(path).href);
    const stage = module[exportName];
    if (stage === undefined) {
      const exported = Object.keys(module).filter((k) => isStage(module[k]));
      throw new Error(`stage file '${file}' has no export '${exportName}' (stages it exports: ${exported.join(', ') || 'none'})`);
    }
    if (!isStage(stage)) throw new Error(`'${use}' is not a stage (export an object made with defineMap, defineReduce, ...)`);
    return stage;
  }
}

function isCatalog(value: unknown): boolean {
  const v = value as Partial<StageCatalog> | undefined;
  return !!v && typeof v.resolve === 'function' && typeof v.names === 'function' && typeof v.requireRef === 'function';
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

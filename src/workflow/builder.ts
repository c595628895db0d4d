// Building a workflow in TypeScript: the same WorkflowSpec a YAML file gives, checked the same way.
//
//   const wf = workflow('prices', { params: { minVolume: 0 } })
//     .stage('prices', 'source.csv', { path: 'data/finance/*.csv' })
//     .stage('active', 'table.filter', { where: 'volume > ${params.minVolume}' }, { from: 'prices' })
//     .stage('out', 'sink.parquet', { path: 'prices.parquet' }, { from: 'active' });
//   await runWorkflow(wf, { out: 'out' });
import { stringify } from 'yaml';
import type { ParamValue, StageSpec, WorkflowSource, WorkflowSpec } from './types.ts';

export interface StageOptions {
  from?: string | string[];
  retries?: number;
  timeout?: number | string;
  onError?: 'fail' | 'skip' | 'quarantine';
}

export class WorkflowBuilder {
  private readonly stages: StageSpec[] = [];

  constructor(
    private readonly name: string,
    private readonly options: { description?: string; params?: Record<string, ParamValue>; baseDir?: string } = {},
  ) {}

  /** Adds a stage; `settings` is what a YAML file puts under `with`. */
  stage(id: string, use: string, settings: Record<string, unknown> = {}, options: StageOptions = {}): this {
    const stage: StageSpec = { id, use };
    if (options.from !== undefined) stage.from = options.from;
    if (Object.keys(settings).length > 0) stage.with = settings;
    if (options.retries !== undefined) stage.retries = options.retries;
    if (options.timeout !== undefined) stage.timeout = options.timeout;
    if (options.onError !== undefined) stage.onError = options.onError;
    this.stages.push(stage);
    return this;
  }

  get spec(): WorkflowSpec {
    const { description, params } = this.options;
    return {
      name: this.name,
      ...(description ? { description } : {}),
      ...(params ? { params } : {}),
      stages: structuredClone(this.stages),
    };
  }

  /** The equivalent workflow file. */
  toYaml(): string {
    return stringify(this.spec);
  }

  /** Where relative paths resolve (the `baseDir` option, else the working directory). */
  get source(): WorkflowSource {
    return { file: `<${this.name}>`, baseDir: this.options.baseDir ?? process.cwd(), text: this.toYaml(), stageLines: [] };
  }
}

export const workflow = (name: string, options?: ConstructorParameters<typeof WorkflowBuilder>[1]) => new WorkflowBuilder(name, options);

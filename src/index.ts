// quiver's TypeScript API: build workflows in code, validate and run them with the built-in stages,
// and define stages of your own.
import { resolveWorkflow as resolveWith, runWorkflow as runWith, type RunWorkflowOptions, type WorkflowInput } from './engine/run-workflow.ts';
import { builtinCatalog } from './stages/index.ts';

export { workflow, WorkflowBuilder } from './workflow/builder.ts';
export { defineMap, defineReduce, defineSink, defineSource } from './workflow/stage.ts';
export type * from './workflow/stage.ts';
export { InvalidWorkflowError, type WorkflowInput } from './engine/run-workflow.ts';
export type { RunSummary } from './observe/summary.ts';
export { StageCatalog, type CatalogRef } from './workflow/catalog.ts';
export { builtinCatalog, builtinStages } from './stages/index.ts';

type Options = Omit<RunWorkflowOptions, 'catalog'> & { catalog?: RunWorkflowOptions['catalog'] };

/** Runs a workflow file, or one built with `workflow()`; resolves to the run summary. */
export const runWorkflow = (input: WorkflowInput, options: Options = {}) =>
  runWith(input, { catalog: builtinCatalog, ...options });

/** Loads and validates without reading data; throws InvalidWorkflowError listing every problem. */
export const validateWorkflow = (input: WorkflowInput, options: { set?: string[] } = {}) =>
  resolveWith(input, { catalog: builtinCatalog, ...options });

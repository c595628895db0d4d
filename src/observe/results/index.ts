// Result previews of a run's outputs (report and `quiver serve`): see previews.ts.
export { previewsOfRun, resultSpecsOf } from './previews.ts';
export { tablePage, type TablePage } from './table.ts';
export type { Preview, PreviewKind } from './types.ts';

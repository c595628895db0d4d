// `quiver graph FILE`: the stage graph as Mermaid (default) or Graphviz dot.
import { formatProblem } from '../engine/run-workflow.ts';
import { builtinCatalog } from '../stages/catalog.ts';
import { toDot, toMermaid } from '../workflow/graph.ts';
import { loadWorkflowFile } from '../workflow/load.ts';
import { validateWorkflow } from '../workflow/validate.ts';
import { parseFlags } from './args.ts';
import { allowPathsWith, projectFlags, projectFor } from './project.ts';
import { UsageError } from './usage-error.ts';

export async function graphCommand(args: string[]): Promise<number> {
  const { values, target } = parseFlags(args, {
    format: { type: 'string', default: 'mermaid' },
    'allow-path': { type: 'string', multiple: true }, // a stage file elsewhere is imported only when allowed
    ...projectFlags,
  }, 'one workflow file');
  const project = projectFor(target, values);
  if (values.format !== 'mermaid' && values.format !== 'dot') throw new UsageError(`--format must be mermaid or dot, not '${values.format}'`);
  const loaded = await loadWorkflowFile(target);
  const problems = loaded.spec
    ? (await validateWorkflow(loaded.spec, loaded.source, { catalog: builtinCatalog, structureOnly: true, allowPaths: allowPathsWith(project, values['allow-path']), out: project?.defaults.out })).problems
    : loaded.problems;
  if (problems.length > 0 || !loaded.spec) {
    for (const p of problems) process.stderr.write(formatProblem(target, p) + '\n');
    return 2;
  }
  process.stdout.write((values.format === 'dot' ? toDot(loaded.spec.stages, loaded.spec.name) : toMermaid(loaded.spec.stages)) + '\n');
  return 0;
}

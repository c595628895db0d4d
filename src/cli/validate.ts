// `quiver validate FILE`: every problem as one sentence with file and line; exit 2 if any.
import { formatProblem, InvalidWorkflowError, resolveWorkflow } from '../engine/run-workflow.ts';
import { describeSchema } from '../arrow/types.ts';
import { builtinCatalog } from '../stages/index.ts';
import { parseFlags } from './args.ts';

export async function validateCommand(args: string[]): Promise<number> {
  const { values, target } = parseFlags(args, {
    set: { type: 'string', multiple: true },
    'allow-path': { type: 'string', multiple: true },
  }, 'one workflow file');
  try {
    const workflow = await resolveWorkflow(target, { catalog: builtinCatalog, set: values.set, allowPaths: values['allow-path'] });
    process.stdout.write(`${target}: valid, ${workflow.stages.length} stages\n`);
    for (const s of workflow.stages) {
      if (s.stage.kind === 'source') {
        process.stdout.write(`  ${s.id}: ${s.partitions?.length ?? 0} partitions; ${describeSchema(s.schema)}\n`);
      }
    }
    return 0;
  } catch (error) {
    if (!(error instanceof InvalidWorkflowError)) throw error;
    for (const p of error.problems) process.stderr.write(formatProblem(target, p) + '\n');
    return 2;
  }
}

// `quiver validate FILE`: every problem as one sentence with file and line; exit 2 if any.
import { formatProblem, InvalidWorkflowError, resolveWorkflow } from '../engine/run-workflow.ts';
import { describeSchema } from '../arrow/types.ts';
import { builtinCatalog } from '../stages/catalog.ts';
import { parseFlags } from './args.ts';
import { allowPathsWith, projectFlags, projectFor } from './project.ts';

export async function validateCommand(args: string[]): Promise<number> {
  const { values, target } = parseFlags(args, {
    set: { type: 'string', multiple: true },
    'allow-path': { type: 'string', multiple: true },
    ...projectFlags,
  }, 'one workflow file');
  const project = projectFor(target, values);
  try {
    const workflow = await resolveWorkflow(target, { catalog: builtinCatalog, set: values.set, allowPaths: allowPathsWith(project, values['allow-path']), out: project?.defaults.out });
    // Files discovery could not read: a problem under onError 'fail' (the run would stop there);
    // under skip or quarantine the run sets them aside, so they are only told.
    let failing = 0;
    for (const s of workflow.stages) {
      const policy = s.spec.onError ?? 'fail';
      for (const p of s.partitions ?? []) {
        if (p.unreadable === undefined) continue;
        if (policy === 'fail') failing++;
        const verdict = policy === 'fail' ? 'cannot be read' : `will be ${policy === 'skip' ? 'skipped' : 'quarantined'}`;
        process.stderr.write(`${target}: stage '${s.id}' (${s.spec.use}): ${p.unreadable} (${verdict})\n`);
      }
    }
    if (failing > 0) return 2;
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

// `quiver export RUN [--out DIR] --to DEST [--with-inputs] [--license ID]`: one run as a Workflow
// Run RO-Crate folder. RUN is a run id, a unique prefix of one, or 'latest'.
import { exportRunCrate } from '../provenance/ro-crate.ts';
import { readManifest } from '../provenance/runs.ts';
import { parseFlags } from './args.ts';
import { UsageError } from './usage-error.ts';

export async function exportCommand(args: string[]): Promise<number> {
  const { values, target } = parseFlags(args, {
    out: { type: 'string', default: 'out' },
    to: { type: 'string' },
    'with-inputs': { type: 'boolean', default: false },
    'inputs-from': { type: 'string' },
    license: { type: 'string' },
  }, 'one run id (or a unique prefix of one, or latest)');
  if (!values.to) throw new UsageError('--to DEST is required: the folder to write the crate into');
  const record = readManifest(values.out, target);
  const result = await exportRunCrate(record, values.to, {
    withInputs: values['with-inputs'], inputsBaseDir: values['inputs-from'], license: values.license,
  });
  for (const w of result.warnings) process.stderr.write(`quiver export: ${w}\n`);
  process.stdout.write(`run ${record.runId} (${record.manifest.workflow.name}, ${record.manifest.status}) → ${result.dest}: ${result.files.length} files, ${result.entities} entities\n`);
  return 0;
}

// `quiver schedule FILE`: keeps running a workflow on its `schedule:` until SIGINT or SIGTERM.
// The first signal stops scheduling and lets the current run finish; a second one aborts it.
// Each fire time is recorded in OUT/.quiver/schedule.jsonl; each run leaves its usual run record.
import { resolve } from 'node:path';
import { LocalExecutor } from '../engine/executors/local.ts';
import { formatProblem, InvalidWorkflowError, resolveWorkflow, runWorkflow } from '../engine/run-workflow.ts';
import { journalPath, ScheduleJournal } from '../schedule/journal.ts';
import { Scheduler, type ScheduleRecord } from '../schedule/scheduler.ts';
import { builtinCatalog } from '../stages/catalog.ts';
import { messageOf } from '../workflow/errors.ts';
import type { ScheduleSpec } from '../schedule/spec.ts';
import { parseFlags } from './args.ts';
import { allowPathsWith, projectFlags, projectFor } from './project.ts';
import { UsageError } from './usage-error.ts';

export async function scheduleCommand(args: string[]): Promise<number> {
  const { values, target } = parseFlags(args, {
    set: { type: 'string', multiple: true },
    out: { type: 'string' },
    workers: { type: 'string' },
    'allow-path': { type: 'string', multiple: true },
    ...projectFlags,
  }, 'one workflow file');
  // Read once: the project's folders and defaults hold for every run of this schedule.
  const project = projectFor(target, values);
  values.out ??= project?.defaults.out ?? 'out';
  const allowPaths = [...(allowPathsWith(project, values['allow-path']) ?? []), values.out];
  const workers = values.workers === undefined ? project?.defaults.workers : Number(values.workers);
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 1)) throw new UsageError(`--workers must be a positive whole number, not '${values.workers}'`);

  // Checked once here, so a workflow that cannot run is refused now rather than at its first fire time.
  let name: string;
  let schedule: ScheduleSpec | undefined;
  try {
    const workflow = await resolveWorkflow(target, { catalog: builtinCatalog, set: values.set, allowPaths, out: values.out });
    ({ name, schedule } = workflow.spec);
  } catch (error) {
    if (!(error instanceof InvalidWorkflowError)) throw error;
    for (const p of error.problems) process.stderr.write(formatProblem(target, p) + '\n');
    return 2;
  }
  if (!schedule) {
    process.stderr.write(`${target}: has no 'schedule' to follow (add e.g. schedule: { cron: "0 6 * * *", timezone: UTC }), or use quiver run\n`);
    return 2;
  }

  const out = resolve(values.out!);
  const journal = new ScheduleJournal(journalPath(out), (error) =>
    process.stderr.write(`quiver schedule: cannot write ${journalPath(out)}: ${messageOf(error)}\n`));
  const stop = new AbortController();
  const abortRun = new AbortController();
  const onSignal = () => {
    if (stop.signal.aborted) return abortRun.abort();
    process.stderr.write('quiver schedule: stopping after the current run (signal again to abort it)\n');
    stop.abort();
  };
  // One pool for every run: starting worker threads is the slow part of a small run.
  const executor = new LocalExecutor({ workers });
  const scheduler = new Scheduler({
    ...schedule,
    // The file is read again at each run, so edits to its stages apply from the next run on.
    run: (firedAt) => {
      process.stderr.write(`${new Date().toISOString()} ${name}: run for ${firedAt.toISOString()} started\n`);
      return runWorkflow(target, { catalog: builtinCatalog, out, set: values.set, executor, signal: abortRun.signal, allowPaths });
    },
    record: (record) => {
      journal.append({ workflow: name, ...record });
      process.stderr.write(`${new Date().toISOString()} ${name}: ${describe(record)}\n`);
    },
  });

  // Listening before saying anything: whoever reads the line below may signal at once.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const upcoming = scheduler.upcoming(3).map((d) => d.toISOString());
  process.stderr.write(`${target}: '${schedule.cron}' in ${schedule.timezone ?? 'UTC'}, overlap ${schedule.overlap ?? 'skip'}; next: ${upcoming.join(', ')}\n`);
  try {
    await scheduler.run(stop.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await executor.close();
    await journal.flush();
  }
  return 0;
}

function describe(r: ScheduleRecord): string {
  switch (r.outcome) {
    case 'ran':
    case 'failed':
      return `run ${r.runId ?? '(none)'} for ${r.scheduled} ${r.outcome === 'ran' ? 'ok' : `failed: ${r.error}`}`;
    case 'skipped':
      return `skipped ${r.scheduled}: ${r.reason}`;
    case 'missed':
      return `missed ${r.scheduled}${r.lastMissed !== r.scheduled ? ` to ${r.lastMissed}` : ''}: ${r.reason}`;
  }
}

// Shared by the benchmarks: run a workflow on a warm worker pool, and report figures as one
// `BENCH {...}` JSON line (collected by run.ts) plus a readable line.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalExecutor } from '../../src/engine/executors/local.ts';
import { runWorkflow } from '../../src/engine/run-workflow.ts';
import type { Executor } from '../../src/engine/task.ts';
import type { RunSummary } from '../../src/observe/summary.ts';
import { builtinCatalog } from '../../src/stages/index.ts';
import type { WorkflowBuilder } from '../../src/workflow/builder.ts';

export const benchDir = () => mkdtempSync(join(process.env.QUIVER_BENCH_DIR ?? tmpdir(), 'quiver-bench-'));
export const cleanup = (dir: string) => rmSync(dir, { recursive: true, force: true });

/** A pool started and used once, so its start-up is not part of what is timed. */
export async function warmExecutor(workers: number): Promise<LocalExecutor> {
  const executor = new LocalExecutor({ workers });
  await executor.warm(builtinCatalog.requireRef());
  return executor;
}

/** One run; without the task cache unless asked (benchmarks measure the engine, cache.ts the cache). */
export async function timedRun(wf: WorkflowBuilder, executor: Executor, out: string, options: { cache?: boolean } = {}): Promise<{ seconds: number; summary: RunSummary }> {
  const started = performance.now();
  const summary = await runWorkflow(wf, { catalog: builtinCatalog, out, executor, noCache: !options.cache });
  const seconds = (performance.now() - started) / 1000;
  if (summary.status !== 'ok') throw new Error(`benchmark run failed: ${summary.error}`);
  return { seconds, summary };
}

export function report(name: string, figures: Record<string, number | string>, text: string): void {
  console.log(`BENCH ${JSON.stringify({ name, ...figures })}`);
  console.log(text);
}

export const mb = (bytes: number) => bytes / (1 << 20);

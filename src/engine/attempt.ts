// Retries and timeouts for the requests of a segment (DESIGN.md §3 `retries`, `timeout`). A request
// that fails — its stage threw, its worker thread died or ran out of memory, or it ran past its
// timeout (the thread is then stopped) — is tried again after a growing pause, on a fresh start of
// its stages, until its retries are used up; then the run fails with what happened.
import type { Logger } from '../observe/logger.ts';
import { TaskError } from './task-error.ts';
import type { Executor, TaskRequest, TaskResult } from './task.ts';

export interface AttemptPolicy {
  /** Extra tries after the first. */
  retries: number;
  /** Seconds one unit of work may take; a request of n units gets n times that. */
  timeoutSeconds?: number;
  /** Names for messages: the stages the segment runs. */
  stages: string[];
}

const firstPauseMs = 200;
const longestPauseMs = 30_000;

export async function runAttempts(
  executor: Executor, request: TaskRequest, policy: AttemptPolicy, signal: AbortSignal, log?: Logger,
): Promise<TaskResult> {
  const partitions = [...new Set(request.units.map((u) => u.partition.key))];
  for (let attempt = 0; ; attempt++) {
    const limit = policy.timeoutSeconds === undefined ? undefined : AbortSignal.timeout(policy.timeoutSeconds * 1000 * request.units.length);
    try {
      return await executor.run(attempt ? { ...request, fresh: true } : request, {
        signal: limit ? AbortSignal.any([signal, limit]) : signal,
        // The request's buffers must survive for a retry: copy them rather than move them.
        keepBuffers: policy.retries > 0,
      });
    } catch (thrown) {
      if (signal.aborted) throw thrown;
      // The executor sees only an abort; that it was the timeout's is known here.
      const error = limit?.aborted
        ? new TaskError({ kind: 'timeout', cause: `ran past its timeout of ${policy.timeoutSeconds}s per chunk and was stopped` })
        : thrown;
      if (!(error instanceof TaskError)) throw error;
      const cause = error.kind === 'thread-died' || error.kind === 'out-of-memory' ? `its worker thread died (${error.message})` : error.message;
      if (attempt >= policy.retries) {
        // A stage's own error names its stage and where; what befell the thread is the whole segment's.
        if (error.kind === 'stage' || error.kind === 'input') throw error;
        const tries = attempt + 1;
        throw new TaskError({
          kind: error.kind, stage: policy.stages.join('+'), partition: partitions.join(', '), cause: `${cause}${tries > 1 ? ` (tried ${tries} times)` : ''}`,
        });
      }
      const pauseMs = Math.min(longestPauseMs, firstPauseMs * 2 ** attempt);
      log?.warn({ event: 'retry', stages: policy.stages, partitions, attempt: attempt + 1, pauseMs, kind: error.kind, cause }, 'task failed; retrying');
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}

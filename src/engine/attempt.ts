// Retries and timeouts for the requests of a segment (DESIGN.md §3 `retries`, `timeout`). A request
// that fails — its stage threw, its worker thread died or ran out of memory, or it ran past its
// timeout (the thread is then stopped) — is tried again after a growing pause, on a fresh start of
// its stages, until its retries are used up; then the run fails with what happened.
import type { Logger } from '../observe/logger.ts';
import { messageOf, StageRunError } from '../workflow/errors.ts';
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
    } catch (error) {
      if (signal.aborted) throw error;
      const cause = limit?.aborted
        ? `ran past its timeout of ${policy.timeoutSeconds}s per chunk and was stopped`
        : threadDied(error) ? `its worker thread died (${messageOf(error)})` : messageOf(error);
      if (attempt >= policy.retries) {
        if (!threadDied(error) && !limit?.aborted) throw error;
        const tries = attempt + 1;
        throw new StageRunError(policy.stages.join('+'), `${cause}${tries > 1 ? ` (tried ${tries} times)` : ''}`, { partition: partitions.join(', ') });
      }
      const pauseMs = Math.min(longestPauseMs, firstPauseMs * 2 ** attempt);
      log?.warn({ event: 'retry', stages: policy.stages, partitions, attempt: attempt + 1, pauseMs, cause }, 'task failed; retrying');
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}

/**
 * Errors a stage throws come back from the worker as plain Errors whose message names the stage
 * (StageRunError's form); anything else is the thread itself dying (exit, out of memory).
 */
function threadDied(error: unknown): boolean {
  return !/^stage '/.test(messageOf(error));
}

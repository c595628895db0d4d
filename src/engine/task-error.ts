// Why a task failed, as a kind rather than a message to parse: what a worker reports (a stage threw,
// an input was bad) travels back as a plain value, and what the executor sees happen to the thread
// (it died, ran out of memory, ran past its timeout) is added on this side. Retries decide by kind.
import { InputError, messageOf, StageRunError, stageRunMessage } from '../workflow/errors.ts';

export type TaskFailure =
  /** A stage threw, or could not be built; on which partition, or reading which file. */
  | { kind: 'stage'; stage: string; partition?: string; file?: string; cause: string }
  /** A stage found its input file bad (an InputError), at a line where it could tell. */
  | { kind: 'input'; stage: string; file: string; line?: number; cause: string }
  /** What became of the thread running the task; the stages and partitions once they are known. */
  | { kind: 'thread-died' | 'out-of-memory' | 'timeout'; cause: string; stage?: string; partition?: string };

export type TaskFailureKind = TaskFailure['kind'];

export class TaskError extends Error {
  readonly kind: TaskFailureKind;

  constructor(readonly failure: TaskFailure) {
    super(describe(failure));
    this.kind = failure.kind;
  }
}

/**
 * The failure a worker reports for what its task threw; anything not from one stage is the
 * segment's, named by its stages' ids.
 */
export function taskFailure(error: unknown, segmentStages: string[]): TaskFailure {
  const stage = error instanceof StageRunError ? error.stage : segmentStages.join('+');
  const cause = error instanceof StageRunError ? error.cause : error;
  if (cause instanceof InputError) return { kind: 'input', stage, file: cause.file, line: cause.line, cause: cause.cause };
  return { kind: 'stage', stage, ...(error instanceof StageRunError ? error.where : {}), cause: messageOf(cause) };
}

/** Reads as the StageRunError it stands for did on the worker's side: `stage 'ID' ...: cause`. */
function describe(failure: TaskFailure): string {
  if (failure.kind === 'input') return stageRunMessage(failure.stage, new InputError(failure.file, failure.cause, failure.line), {});
  return failure.stage === undefined ? failure.cause : stageRunMessage(failure.stage, failure.cause, failure);
}

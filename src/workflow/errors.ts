// Errors users read. Each names what it can of: the workflow file, the stage id, the input file
// and line, and the cause, so the CLI can print one readable sentence.

/** A column a stage needs is absent from one of its inputs. */
export class MissingColumnError extends Error {
  constructor(readonly column: string, readonly available: string[], readonly input = 0) {
    super(`needs column '${column}', which is not there (columns: ${available.join(', ') || 'none'})`);
  }
}

/** A column has a type the stage cannot take. */
export class ColumnTypeError extends Error {
  constructor(readonly column: string, readonly expected: string, readonly actual: string, readonly input = 0) {
    super(`column '${column}' is ${actual}, expected ${expected}`);
  }
}

/** Any other reason a stage cannot work with its input schemas or params. */
export class SchemaError extends Error {}

/** An error while running, with where it happened. */
export class StageRunError extends Error {
  constructor(readonly stage: string, readonly cause: unknown, readonly where: { file?: string; partition?: string } = {}) {
    super(stageRunMessage(stage, cause, where));
  }
}

/** `stage 'ID' reading FILE: cause` (or `on partition P`): how every error while running reads. */
export function stageRunMessage(stage: string, cause: unknown, where: { file?: string; partition?: string }): string {
  // An InputError already names its file and line.
  const at = cause instanceof InputError ? '' : where.file ? ` reading ${where.file}` : where.partition ? ` on partition ${where.partition}` : '';
  return `stage '${stage}'${at}: ${messageOf(cause)}`;
}

/** An error in input data, pinned to a file and line or row. */
export class InputError extends Error {
  constructor(readonly file: string, readonly cause: string, readonly line?: number) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${cause}`);
  }
}

/** A file discovery could not read (a partition's `unreadable` reason), met by the run that reads it. */
export class UnreadableFile extends InputError {
  constructor(file: string, reason: string) {
    // The reason usually names the file already (it is an InputError's message).
    super(file, reason.startsWith(`${file}: `) ? reason.slice(file.length + 2) : reason);
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Thrown by a map stage that can say which rows of a batch it rejects (not just that one failed):
 * under onError skip or quarantine those rows are set aside and the stage is run on the rest.
 */
export class RejectedRows extends Error {
  constructor(readonly rows: number[], readonly reason: string, message: string) {
    super(message);
  }
}

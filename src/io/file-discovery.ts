// Discovery one file at a time: a file of a glob that cannot be listed (a damaged footer, a header
// that lies, columns unlike the first file's) becomes an unreadable partition carrying why, and
// the rest of the glob goes on. The engine then sets that partition aside under `onError: skip |
// quarantine`, or fails the run naming the file (with its run record) under 'fail'; `quiver
// validate` names it too. Only when no file at all can be read does discovery itself fail, as
// there is then no schema to run with.
import { messageOf } from '../workflow/errors.ts';
import type { SourcePartition } from '../workflow/stage.ts';
import { mapLimited, type InputFile } from './input-files.ts';

/** The partition standing for `file` when discovery could not read it: one chunk, its reason. */
export function unreadablePartition(file: InputFile, reason: unknown): SourcePartition {
  const why = messageOf(reason);
  const where = file.object ? { object: file.object } : { file: file.path };
  return { key: file.key, ...where, bytes: file.bytes, unreadable: why, chunks: () => [{ unreadable: why, bytes: file.bytes }] };
}

export type Described<T> = { file: InputFile; info: T } | { file: InputFile; error: unknown };

/**
 * Runs `describe` on every file (at most `limit` at once), keeping each file's failure instead of
 * throwing it; throws the first failure only when every file failed.
 */
export async function describeEach<T>(files: InputFile[], limit: number, describe: (file: InputFile) => Promise<T>): Promise<Described<T>[]> {
  const described = await mapLimited(files, limit, async (file): Promise<Described<T>> => {
    try {
      return { file, info: await describe(file) };
    } catch (error) {
      return { file, error };
    }
  });
  const failed = described.filter((d) => 'error' in d);
  if (files.length > 0 && failed.length === files.length) throw (failed[0] as { error: unknown }).error;
  return described;
}

/**
 * The files described, in order: `readable(file, info)` gives a good file's partitions and may
 * throw (a schema unlike the first file's) to make it unreadable too.
 */
export function partitionsOf<T>(described: Described<T>[], readable: (file: InputFile, info: T) => SourcePartition[]): SourcePartition[] {
  return described.flatMap((d) => {
    if ('error' in d) return [unreadablePartition(d.file, d.error)];
    try {
      return readable(d.file, d.info);
    } catch (error) {
      return [unreadablePartition(d.file, error)];
    }
  });
}

/** The first file that could be described: the one whose schema the others must match. */
export function firstReadable<T>(described: Described<T>[]): { file: InputFile; info: T } {
  return described.find((d): d is { file: InputFile; info: T } => 'info' in d)!;
}

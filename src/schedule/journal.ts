// OUT/.quiver/schedule.jsonl: one JSON line per fire time of a schedule (ran, failed, skipped,
// missed), appended and fsynced one by one so a crash loses at most the line being written.
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ScheduleRecord } from './scheduler.ts';

export const journalPath = (outDir: string) => join(outDir, '.quiver', 'schedule.jsonl');

export class ScheduleJournal {
  /** Appends run one after another, in the order records were given. */
  private tail: Promise<void> = Promise.resolve();

  /** `onError` hears about a line that could not be written; the schedule goes on. */
  constructor(readonly file: string, private readonly onError: (error: unknown) => void = () => {}) {}

  append(record: ScheduleRecord & { workflow?: string }): void {
    const line = JSON.stringify(record) + '\n';
    this.tail = this.tail.then(() => appendLine(this.file, line)).catch(this.onError);
  }

  /** Resolves once every line given so far is on disk. */
  flush(): Promise<void> {
    return this.tail;
  }
}

async function appendLine(file: string, line: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const handle = await open(file, 'a');
  try {
    await handle.write(line);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Every record in a journal file, oldest first. */
export async function readJournal(file: string): Promise<(ScheduleRecord & { workflow?: string })[]> {
  const text = await readFile(file, 'utf8');
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
}

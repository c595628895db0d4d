// Run logs: pino JSON lines in the run's folder, one event per line, for machines and for later.
// Every line passes through the run's redactor as it is written, whoever logged it.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino, type Logger } from 'pino';

export type { Logger };

export interface RunLog {
  log: Logger;
  /** Flushes and closes the file. */
  close(): Promise<void>;
}

/** What every line written passes through (the run's secrets and patient file names replaced). */
export interface TextFilter {
  text(text: string): string;
}

export function openRunLog(file: string, filter: TextFilter, level = 'info'): RunLog {
  mkdirSync(dirname(file), { recursive: true });
  const destination = pino.destination({ dest: file, sync: false, mkdir: true });
  // A full or read-only disk stops the log, not the process: the run fails where it writes its outputs.
  destination.on('error', () => undefined);
  const log = pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime, hooks: { streamWrite: (line) => filter.text(line) } }, destination);
  return {
    log,
    close: () =>
      new Promise<void>((resolve) => {
        destination.flush(() => {
          destination.end();
          resolve();
        });
      }),
  };
}

// Run logs: pino JSON lines in the run's folder, one event per line, for machines and for later.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino, type Logger } from 'pino';

export type { Logger };

export interface RunLog {
  log: Logger;
  /** Flushes and closes the file. */
  close(): Promise<void>;
}

export function openRunLog(file: string, level = 'info'): RunLog {
  mkdirSync(dirname(file), { recursive: true });
  const destination = pino.destination({ dest: file, sync: false, mkdir: true });
  // A full or read-only disk stops the log, not the process: the run fails where it writes its outputs.
  destination.on('error', () => undefined);
  const log = pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, destination);
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

// One run at a time per output folder: a lock file names the run holding it. A lock left by a
// process that no longer exists (killed, machine restarted) is taken over, and the temporary
// files that process left behind are removed, so a killed run leaves nothing half-written.
import { readdirSync, rmSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { makeFolder } from '../io/make-folder.ts';

/** Temporary names used by OutputFile (`.NAME.8HEX.tmp`) and by atomic JSON writes (`NAME.PID.tmp`). */
const temporaryName = /^\..+\.[0-9a-f]{8}\.tmp$|\.\d+\.tmp$/;

interface LockHolder {
  pid: number;
  host: string;
  runId: string;
}

export class OutFolderBusyError extends Error {}

/** Folders this process holds: a lock naming this process is live if its folder is here. */
const held = new Set<string>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the folder for a run; returns the function that gives it back. */
export async function claimOutFolder(folder: string, runId: string): Promise<() => Promise<void>> {
  const outDir = resolve(folder);
  const lock = join(outDir, '.quiver', 'lock');
  makeFolder(join(outDir, '.quiver'));
  const me: LockHolder = { pid: process.pid, host: hostname(), runId };
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(lock, JSON.stringify(me), { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
      const holder = await readFile(lock, 'utf8').then((t) => JSON.parse(t) as LockHolder, () => undefined);
      const live = holder?.pid === process.pid ? held.has(outDir) : holder ? isAlive(holder.pid) : false;
      if (holder && holder.host === me.host && live) {
        throw new OutFolderBusyError(`${outDir} is in use by run ${holder.runId} (process ${holder.pid}); wait for it to end or choose another --out`);
      }
      if (holder && holder.host !== me.host) {
        throw new OutFolderBusyError(`${outDir} is locked by run ${holder.runId} on ${holder.host}; if that run is gone, remove ${lock}`);
      }
      await rm(lock, { force: true }); // its holder is gone
    }
  }
  held.add(outDir);
  removeTemporaryFiles(outDir);
  return async () => {
    held.delete(outDir);
    // On a read-only or vanished folder the lock stays, naming a process that will be gone: the next run takes it over.
    await rm(lock, { force: true }).catch(() => undefined);
  };
}

/** Deletes what interrupted writes left: temporary files anywhere under the folder. */
function removeTemporaryFiles(outDir: string): void {
  rmSync(join(outDir, '.quiver', 'tmp'), { recursive: true, force: true });
  for (const entry of readdirSync(outDir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && temporaryName.test(entry.name)) {
      rmSync(join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name), { force: true });
    }
  }
}

// Content hashes of input files. Hashing a large archive is a full read, so each hash is kept
// beside the cache with the file's size, mtime and inode: an unchanged file is not read again.
// They are kept as lines of journals (one per run that hashed something new), read all at once.
import { randomBytes } from 'node:crypto';
import { appendFileSync, readdirSync, readFileSync, rmSync, statSync, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic-file.ts';
import { sha256WithStats } from '../io/file-hash.ts';
import { mapLimited } from '../io/input-files.ts';
import { makeFolder } from '../io/make-folder.ts';
import { InputError } from '../workflow/errors.ts';

interface Remembered {
  path: string;
  size: number;
  mtimeMs: number;
  /**
   * Fix: the status change time too. Copies that keep modification times (cp -p, rsync -a, tar,
   * unzip) can replace a file with one of the same size and mtime; ctime cannot be set back, so
   * any write shows in it. (Records without it are not trusted.)
   */
  ctimeMs: number;
  ino: number;
  sha256: string;
}

/** What says a file is still the one that was hashed: any write changes one of these. */
export interface InputStamp {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

const stampOf = (info: Stats): InputStamp => ({ size: info.size, mtimeMs: info.mtimeMs, ctimeMs: info.ctimeMs, ino: info.ino });
const sameStamp = (a: InputStamp, b: InputStamp) => a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino;

/** How `path` differs from `stamp` (it changed or vanished since it was hashed), or undefined. */
export function changeSince(path: string, stamp: InputStamp): string | undefined {
  const info = statSync(path, { throwIfNoEntry: false });
  return info ? describeChange(stamp, stampOf(info)) : 'was removed';
}

function describeChange(was: InputStamp, now: InputStamp): string | undefined {
  if (sameStamp(was, now)) return undefined;
  return now.size !== was.size ? `changed size (${was.size} → ${now.size} bytes)` : now.ino !== was.ino ? 'was replaced' : 'was written to';
}

/**
 * sha256 of every file, keyed by path. With `memoDir`, hashes are remembered there and reused
 * while a file's size, modification time and inode are unchanged. `stamps` receives each file's
 * stamp as hashed, so that the run can tell a file changed under it (changeSince).
 */
export async function hashInputFiles(files: string[], memoDir?: string, stamps?: Map<string, InputStamp>): Promise<Map<string, string>> {
  const known = memoDir ? readJournals(memoDir) : new Map<string, Remembered>();
  const learnt: Remembered[] = [];
  const unique = [...new Set(files)];
  const hashes = await mapLimited(unique, 4, async (path) => {
    const info = await stat(path);
    const memo = known.get(path);
    if (memo && sameStamp(memo, stampOf(info))) {
      stamps?.set(path, stampOf(info));
      return memo.sha256;
    }
    const { sha256, before, after } = await sha256WithStats(path);
    // Written to while it was read, or replaced since the stat above: the hash may be of neither version.
    const stamp = stampOf(info);
    const changed = describeChange(stamp, stampOf(before)) ?? describeChange(stamp, stampOf(after));
    if (changed) throw new InputError(path, `${changed} while it was being hashed; run again once it is complete`);
    stamps?.set(path, stamp);
    learnt.push({ path, ...stamp, sha256 });
    return sha256;
  });
  if (memoDir && learnt.length > 0) await writeJournal(memoDir, known, learnt);
  return new Map(unique.map((path, i) => [path, hashes[i]]));
}

const journalSuffix = '.jsonl';
/** Past this many journals, the next run that writes merges them into one. */
const mostJournals = 16;

/** What the journals remember, by path; a later line wins, a line a crash cut short is skipped. */
function readJournals(memoDir: string): Map<string, Remembered> {
  const known = new Map<string, Remembered>();
  for (const name of journalsIn(memoDir)) {
    let text: string;
    try {
      text = readFileSync(join(memoDir, name), 'utf8');
    } catch {
      continue; // merged away by another run since it was listed
    }
    for (const line of text.split('\n')) {
      try {
        const memo = JSON.parse(line) as Remembered;
        if (typeof memo.path === 'string' && typeof memo.sha256 === 'string' && typeof memo.ctimeMs === 'number') known.set(memo.path, memo);
      } catch {
        // empty, or cut short by a crash
      }
    }
  }
  return known;
}

function journalsIn(memoDir: string): string[] {
  try {
    return readdirSync(memoDir).filter((n) => n.endsWith(journalSuffix)).sort();
  } catch {
    return [];
  }
}

/** Appends what was learnt in a journal of this run's own; too many journals are merged first. */
async function writeJournal(memoDir: string, known: Map<string, Remembered>, learnt: Remembered[]): Promise<void> {
  makeFolder(memoDir);
  const lines = (memos: Iterable<Remembered>) => [...memos].map((m) => `${JSON.stringify(m)}\n`).join('');
  const name = `${Date.now().toString(36).padStart(9, '0')}-${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}${journalSuffix}`;
  const old = journalsIn(memoDir);
  if (old.length < mostJournals) {
    appendFileSync(join(memoDir, name), lines(learnt));
    return;
  }
  // One journal of everything, written whole, then the ones it replaces go.
  for (const memo of learnt) known.set(memo.path, memo);
  await writeFileAtomic(join(memoDir, name), lines(known.values()));
  for (const merged of old) rmSync(join(memoDir, merged), { force: true });
}

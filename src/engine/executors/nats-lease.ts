// One coordinator per run: `lease.<run>` in the KV bucket names the coordinator that holds it, and
// it rewrites the entry every few seconds. A second coordinator finding the entry watches it for a
// while: if it changes, its holder is alive and the newcomer is refused; if not, the holder was
// killed and the newcomer takes the lease over, to resume the run. Only the entry's revision is
// compared, never clocks, which differ between machines.
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { KV } from '@nats-io/kv';

const refreshMs = 3_000;
/** A lease not rewritten for this long is a dead coordinator's. */
export const staleMs = 10_000;

/** A run's identity: its workflow file and its out folder, wherever the command is given from. */
export function runIdentity(workflowFile: string, outDir: string): string {
  return createHash('sha256').update(`${resolve(workflowFile)}\n${resolve(outDir)}`).digest('hex');
}

export class LeaseHeldError extends Error {}

export class CoordinatorLease {
  private readonly timer: NodeJS.Timeout;
  private refreshing = Promise.resolve();
  private readonly abort = new AbortController();
  /** Aborted if another coordinator took the lease over (this one stalled past staleMs): the run must stop. */
  readonly lost = this.abort.signal;

  private constructor(private readonly kv: KV, private readonly key: string, private readonly holder: string, private revision: number) {
    this.timer = setInterval(() => (this.refreshing = this.refreshing.then(() => this.refresh())), refreshMs);
  }

  static async take(kv: KV, run: string): Promise<CoordinatorLease> {
    const key = `lease.${run}`;
    const holder = `${hostname()} pid ${process.pid}`;
    try {
      return new CoordinatorLease(kv, key, holder, await kv.create(key, holder));
    } catch {
      // Held, by a live coordinator or a killed one.
    }
    const seen = await kv.get(key);
    if (seen?.operation === 'PUT') {
      await new Promise((r) => setTimeout(r, staleMs));
      try {
        // Unchanged since: the holder is dead; taken over in one step, which fails if anyone rewrote it.
        return new CoordinatorLease(kv, key, holder, await kv.update(key, holder, seen.revision));
      } catch {
        // Rewritten (the holder lives), or released meanwhile.
      }
    }
    try {
      return new CoordinatorLease(kv, key, holder, await kv.create(key, holder));
    } catch {
      throw new LeaseHeldError(`another coordinator (${(await kv.get(key))?.string()}) is running this workflow into this out folder: wait for it to end, or stop it`);
    }
  }

  private async refresh(): Promise<void> {
    if (this.lost.aborted) return;
    try {
      this.revision = await this.kv.update(this.key, this.holder, this.revision);
    } catch {
      const now = await this.kv.get(this.key).catch(() => null);
      // Rewritten by another coordinator: taken over. (A broker out of reach is the executor's to report.)
      if (now && now.revision !== this.revision) this.abort.abort(new Error(`another coordinator (${now.string()}) took this run over`));
    }
  }

  async release(): Promise<void> {
    clearInterval(this.timer);
    await this.refreshing;
    if (!this.lost.aborted) await this.kv.delete(this.key, { previousSeq: this.revision }).catch(() => undefined);
  }
}

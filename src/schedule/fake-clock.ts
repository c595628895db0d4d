// A Clock that tests move by hand. `advanceTo` steps through time: every sleeper wakes at its own
// instant, and what it starts runs on (until it sleeps again or waits on I/O) before time moves
// further. `jumpTo` moves time in one leap, as a machine waking from sleep sees it.
import type { Clock } from './clock.ts';

interface Sleeper {
  at: number;
  wake: () => void;
}

export class FakeClock implements Clock {
  private time: number;
  private readonly sleepers = new Set<Sleeper>();

  constructor(start: Date | string) {
    this.time = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.time);
  }

  sleepUntil(date: Date, signal?: AbortSignal): Promise<void> {
    if (date.getTime() <= this.time || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const sleeper: Sleeper = {
        at: date.getTime(),
        wake: () => {
          this.sleepers.delete(sleeper);
          signal?.removeEventListener('abort', sleeper.wake);
          resolve();
        },
      };
      this.sleepers.add(sleeper);
      signal?.addEventListener('abort', sleeper.wake, { once: true });
    });
  }

  /** How many are asleep now (0 once everything using this clock has stopped). */
  get sleeping(): number {
    return this.sleepers.size;
  }

  /** Moves time forward to `date`, waking each sleeper at its own instant, in order. */
  async advanceTo(date: Date | string): Promise<void> {
    const target = new Date(date).getTime();
    for (;;) {
      const due = [...this.sleepers].filter((s) => s.at <= target);
      if (due.length === 0) break;
      const at = Math.min(...due.map((s) => s.at));
      this.time = Math.max(this.time, at);
      for (const s of due) if (s.at === at) s.wake();
      await settle();
    }
    this.time = Math.max(this.time, target);
    await settle();
  }

  /** Moves time to `date` in one leap: sleepers that are due wake once, all late. */
  async jumpTo(date: Date | string): Promise<void> {
    this.time = Math.max(this.time, new Date(date).getTime());
    for (const s of [...this.sleepers]) if (s.at <= this.time) s.wake();
    await settle();
  }
}

/** Lets every promise continuation that is ready run (they all run before the next macrotask). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

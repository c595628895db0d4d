// Time as the scheduler sees it. Everything that waits goes through a Clock, so tests replace it
// with FakeClock (fake-clock.ts) and never wait on real time.

export interface Clock {
  now(): Date;
  /** Resolves at `date`, or as soon as `signal` aborts (never rejects). */
  sleepUntil(date: Date, signal?: AbortSignal): Promise<void>;
}

/** setTimeout counts monotonic time, which stands still while the machine sleeps: one long timer
 * set before a suspend fires that much later after it. Waking once a minute to re-read the wall
 * clock notices a resume within a minute (and stays under setTimeout's ~24.8-day limit). */
const maxTimerMs = 60_000;

export const systemClock: Clock = {
  now: () => new Date(),
  async sleepUntil(date, signal) {
    for (;;) {
      const left = date.getTime() - Date.now();
      if (left <= 0 || signal?.aborted) return;
      await delay(Math.min(left, maxTimerMs), signal);
    }
  },
};

/** A timer that is cleared on abort, so a stopped scheduler leaves nothing that keeps the process alive. */
function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

// One coroutine waits until another says something changed; an abort wakes it with the reason.
export class Wakeup {
  private waiters: { resolve: () => void; reject: (reason: unknown) => void }[] = [];

  constructor(private readonly signal?: AbortSignal) {
    signal?.addEventListener('abort', () => this.fail(signal.reason), { once: true });
  }

  wait(): Promise<void> {
    if (this.signal?.aborted) return Promise.reject(this.signal.reason);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  wake(): void {
    this.waiters.splice(0).forEach((w) => w.resolve());
  }

  private fail(reason: unknown): void {
    this.waiters.splice(0).forEach((w) => w.reject(reason));
  }
}

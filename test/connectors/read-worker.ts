// Reads a source fully in a worker thread (fuzz-worker.mjs), with a time limit, for the tests of
// hostile inputs: a hang or a crash becomes a verdict instead of a stuck or dead test process.
// Each verdict carries the process's peak RSS so far: the worker thread's allocations count to
// it, and vitest runs each test file in a process of its own.
import { Worker } from 'node:worker_threads';
import type { ReadOutcome, ReadTask } from './fuzz-read.ts';

export type Verdict = (ReadOutcome | { hang: true } | { crash: string }) & { peakRss: number };

/** Peak resident memory of this process so far, in bytes. */
export const peakRss = () => process.resourceUsage().maxRSS * 1024;

export class ReadWorker {
  private worker?: Worker;
  private ready?: Promise<void>;
  private next = 0;

  private start() {
    const worker = new Worker(new URL('./fuzz-worker.mjs', import.meta.url), { resourceLimits: { maxOldGenerationSizeMb: 1024 } });
    this.worker = worker;
    this.ready = new Promise((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
  }

  /** Reads `task`; past `limitMs` the read counts as a hang (and the worker is replaced). */
  async read(task: ReadTask, limitMs: number): Promise<Verdict> {
    if (!this.worker) this.start();
    await this.ready;
    const worker = this.worker!;
    const id = this.next++;
    let timer: NodeJS.Timeout | undefined;
    let onMessage: ((m: { id: number; outcome: ReadOutcome }) => void) | undefined;
    let onError: ((e: Error) => void) | undefined;
    let onExit: ((code: number) => void) | undefined;
    const verdict = await new Promise<ReadOutcome | { hang: true } | { crash: string }>((resolve) => {
      onMessage = (m) => m.id === id && resolve(m.outcome);
      onError = (e) => resolve({ crash: `${e.name}: ${e.message}` });
      onExit = (code) => resolve({ crash: `the worker exited with code ${code}` });
      timer = setTimeout(() => resolve({ hang: true }), limitMs);
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage({ id, task });
    });
    clearTimeout(timer);
    worker.off('message', onMessage!);
    worker.off('error', onError!);
    worker.off('exit', onExit!);
    if (!('ok' in verdict)) await this.close(); // a fresh worker for the next case
    return { ...verdict, peakRss: peakRss() };
  }

  async close() {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }
}

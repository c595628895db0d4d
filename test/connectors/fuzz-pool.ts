// A worker thread (fuzz-worker.mjs) that reads one file at a time for the fuzz tests, with a time
// limit per read: a hang (even a synchronous infinite loop) or a crash fails that case and the
// next case gets a fresh worker, instead of stopping the suite.
import { Worker } from 'node:worker_threads';
import type { ReadOutcome, ReadTask } from './fuzz-read.ts';

/** What one read came to, with the process's peak resident memory so far (the worker thread's allocations count to it). */
export type Verdict = (ReadOutcome | { hang: true } | { crash: string }) & { peakRss: number };

/** Peak resident memory of this process so far, in bytes. */
export const peakRss = () => process.resourceUsage().maxRSS * 1024;

export class FuzzWorker {
  private worker?: Worker;
  private ready?: Promise<void>;
  private next = 0;

  /** `limitMs`: a read that takes longer is a hang; `heapMb`: the worker's heap, which also sets the readers' memory budget. */
  constructor(private readonly limitMs: number, private readonly heapMb = 1024) {}

  private start() {
    const worker = new Worker(new URL('./fuzz-worker.mjs', import.meta.url), { resourceLimits: { maxOldGenerationSizeMb: this.heapMb } });
    this.worker = worker;
    this.ready = new Promise((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
  }

  async read(task: ReadTask, limitMs = this.limitMs): Promise<Verdict> {
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

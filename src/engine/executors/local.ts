// Runs tasks in a pool of worker threads on this machine (piscina). Batches travel as Arrow IPC
// bytes in transferred ArrayBuffers: moved between threads, never copied or turned into rows.
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { packRequest } from '../task-codec.ts';
import type { Executor, TaskRequest, TaskResult } from '../task.ts';

export interface LocalExecutorOptions {
  /** Worker threads (default: one per CPU core). */
  workers?: number;
  /** Heap limit per worker thread in MiB: a thread past it dies alone (and its task may be retried). */
  memoryLimitMb?: number;
}

const workerFile = new URL('../../../workers/thread.mjs', import.meta.url).href;

export class LocalExecutor implements Executor {
  readonly concurrency: number;
  private started?: Piscina;

  constructor(private readonly options: LocalExecutorOptions = {}) {
    this.concurrency = Math.max(1, options.workers ?? availableParallelism());
  }

  /** Threads start on first use: a run served from the cache needs none. */
  private get pool(): Piscina {
    if (!this.started) {
      this.started = new Piscina({
        filename: workerFile,
        minThreads: this.concurrency,
        maxThreads: this.concurrency,
        idleTimeout: 60_000,
        ...(this.options.memoryLimitMb ? { resourceLimits: { maxOldGenerationSizeMb: this.options.memoryLimitMb } } : {}),
      });
      // A task aborted while its thread was already answering leaves piscina with a reply it does
      // not expect; that answer is not wanted, and must not bring the process down.
      this.started.on('error', () => undefined);
    }
    return this.started;
  }

  run(request: TaskRequest, options: { signal?: AbortSignal; keepBuffers?: boolean } = {}): Promise<TaskResult> {
    const packed = packRequest(request);
    // Only whole buffers move; views into a shared buffer are copied.
    const transferList = options.keepBuffers ? [] : packed.attachments
      .filter((a) => a.byteOffset === 0 && a.byteLength === a.buffer.byteLength)
      .map((a) => a.buffer as ArrayBuffer);
    return this.pool.run(packed, { transferList, signal: options.signal });
  }

  /** Resolves once every thread has started and loaded the task runner. */
  async warm(): Promise<void> {
    const ping = { segment: { key: 'ping', baseDir: '.', inputSchema: new Uint8Array(), maps: [], exits: [] }, units: [] };
    await Promise.all(Array.from({ length: this.concurrency * 2 }, () => this.run(ping)));
  }

  async close(): Promise<void> {
    await this.started?.destroy();
  }
}

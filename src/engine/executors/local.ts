// Runs tasks in a pool of worker threads on this machine (piscina). Batches travel as Arrow IPC
// bytes in transferred ArrayBuffers: moved between threads, never copied or turned into rows.
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { CatalogRef } from '../../workflow/catalog.ts';
import { messageOf } from '../../workflow/errors.ts';
import { codeRoot, compiled, packageRoot } from '../../workflow/own-code.ts';
import { packRequest } from '../task-codec.ts';
import { TaskError } from '../task-error.ts';
import type { Executor, TaskReply, TaskRequest, TaskResult } from '../task.ts';

export interface LocalExecutorOptions {
  /** Worker threads (default: one per CPU core). */
  workers?: number;
  /** Heap limit per worker thread in MiB: a thread past it dies alone (and its task may be retried). */
  memoryLimitMb?: number;
  /** A worker process's unpacked stage bundles (stage-bundle.ts): its threads resolve the imports of stage files there. */
  bundles?: string;
}

// Compiled (dist/), a thread loads the compiled task runner directly; from the sources, thread.mjs
// registers tsx in the thread first.
const workerFile = (compiled ? new URL('workers/task-worker.js', codeRoot) : new URL('workers/thread.mjs', packageRoot)).href;

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
        ...(this.options.bundles ? { workerData: { bundles: this.options.bundles } } : {}),
        ...(this.options.memoryLimitMb ? { resourceLimits: { maxOldGenerationSizeMb: this.options.memoryLimitMb } } : {}),
      });
      // A task aborted while its thread was already answering leaves piscina with a reply it does
      // not expect; that answer is not wanted, and must not bring the process down.
      this.started.on('error', () => undefined);
    }
    return this.started;
  }

  async run(request: TaskRequest, options: { signal?: AbortSignal; keepBuffers?: boolean } = {}): Promise<TaskResult> {
    const packed = packRequest(request);
    // Only whole buffers move; views into a shared buffer are copied.
    const transferList = options.keepBuffers ? [] : packed.attachments
      .filter((a) => a.byteOffset === 0 && a.byteLength === a.buffer.byteLength)
      .map((a) => a.buffer as ArrayBuffer);
    let reply: TaskReply;
    try {
      reply = await this.pool.run(packed, { transferList, signal: options.signal });
    } catch (error) {
      // The worker replies with its task's own errors: a rejection that is not the abort is the
      // thread failing (it exited, crashed, or ran out of heap).
      if (options.signal?.aborted) throw error;
      const outOfMemory = (error as { code?: unknown } | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY';
      throw new TaskError({ kind: outOfMemory ? 'out-of-memory' : 'thread-died', cause: messageOf(error) });
    }
    if ('failure' in reply) throw new TaskError(reply.failure);
    return reply.result;
  }

  /** Resolves once every thread has started and loaded the task runner and `catalog`. */
  async warm(catalog: CatalogRef): Promise<void> {
    const segment = { key: `ping ${catalog.module}#${catalog.export}`, baseDir: '.', catalog, inputSchema: new Uint8Array(), maps: [], exits: [] };
    await Promise.all(Array.from({ length: this.concurrency * 2 }, () => this.run({ segment, units: [] })));
  }

  async close(): Promise<void> {
    await this.started?.destroy();
  }
}

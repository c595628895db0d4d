// The worker process's side of a distributed run (`quiver worker`): takes tasks from the work
// queue, one per thread of its own pool, and for each writes the reply to the shared store,
// commits it with a KV create of `done.<key>` (the first create wins; a later one wrote the same
// bytes), and only then acks. While the task runs it tells the broker it is still working, so only
// a worker that went quiet has its task delivered again.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream, type Consumer, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { connect, nuid, type NatsConnection } from '@nats-io/transport-node';
import { whole, type Blobs } from '../../cache/blobs.ts';
import { openBlobs } from '../../cache/stores/open-store.ts';
import { messageOf } from '../../workflow/errors.ts';
import { replyToBytes, requestFromBytes, unpackSegment, unpackUnits } from '../task-codec.ts';
import { TaskError, taskFailure } from '../task-error.ts';
import type { TaskReply } from '../task.ts';
import { LocalExecutor } from './local.ts';
import { ackWaitMs, consumerName, doneKey, maxDeliveries, openQueue, streamName, type TaskMessage } from './nats-queue.ts';
import { BundleRefused, bundleCache, fromBundle, openBundle } from './stage-bundle.ts';

export interface NatsWorkerOptions {
  url: string;
  /** The folder the coordinator and every worker mount. */
  store: string;
  /** Capabilities whose subjects it takes tasks from (default ['cpu']). */
  caps?: string[];
  /** Threads, each running one task at a time (default 1). */
  threads?: number;
  /** Stop after this long without a task. */
  idleExitSeconds?: number;
  /** Stops taking tasks; tasks running are stopped and handed back to the queue. */
  signal?: AbortSignal;
  /** Where it says what it does: one line each. */
  log?: (line: string) => void;
}

/** How long one pull waits for a task (the broker's least): also how soon a stop or an idle exit is noticed. */
const pullMs = 1000;

/**
 * Tasks whose compute takes less than this (on average, lately) are taken ahead: each thread has
 * one more task waiting, its request already read, so that the thread goes on at once instead of
 * waiting for the broker and the store. Longer tasks are taken only when a thread is free.
 */
const shortTaskMs = 100;
/** A task taken ahead that has waited this long for a thread (the tasks turned long) goes back to the queue. */
const holdMs = 1000;

interface WorkerContext {
  js: JetStreamClient;
  kv: KV;
  blobs: Blobs;
  pool: LocalExecutor;
  threads: Threads;
  /** Where stage bundles are unpacked. */
  bundles: string;
  signal?: AbortSignal;
  log: (line: string) => void;
}

export async function runNatsWorker(options: NatsWorkerOptions): Promise<void> {
  const { caps = ['cpu'], threads = 1, signal, log = () => undefined } = options;
  // No async traces: see nats.ts.
  const nc = await connect({ servers: options.url, name: 'quiver worker', noAsyncTraces: true });
  const bundles = bundleCache();
  const pool = new LocalExecutor({ workers: threads, bundles });
  try {
    const { kv } = await openQueue(nc, caps);
    const js = jetstream(nc);
    const consumers = await Promise.all(caps.map((cap) => js.consumers.get(streamName, consumerName(cap))));
    const worker: WorkerContext = { js, kv, blobs: openBlobs(options.store), pool, threads: new Threads(threads), bundles, signal, log };
    log(`worker: ${options.url}, ${threads} thread(s), caps ${caps.join(',')}, store ${options.store}`);
    let lastTask = Date.now();
    let running = 0;
    const idle = () => options.idleExitSeconds !== undefined && running === 0 && Date.now() - lastTask >= options.idleExitSeconds * 1000;
    /** Tasks taken and not yet acked (or handed back), computing or not. */
    const tasks = new Set<Promise<void>>();
    let failed: { error: unknown } | undefined;
    // Takers, each holding one task at a time until its compute is done: one per thread, and one
    // more per thread while tasks are short (see shortTaskMs). Committing a task's reply (the write
    // to the store, the KV create, the ack) goes on after its taker moved on to the next.
    const take = async (ahead: boolean): Promise<void> => {
      while (!signal?.aborted && !idle() && !failed) {
        if (ahead && !worker.threads.short()) {
          await sleep(pullMs / 4);
          continue;
        }
        const msg = await pull(consumers, nc);
        if (!msg) continue;
        running++;
        await new Promise<void>((taken) => {
          const task = handle(msg, worker, taken)
            .catch((error: unknown) => void (failed ??= { error }))
            .finally(() => {
              running--;
              lastTask = Date.now();
              tasks.delete(task);
              taken();
            });
          tasks.add(task);
        });
      }
    };
    await Promise.all(Array.from({ length: 2 * threads }, (_, i) => take(i >= threads)));
    while (tasks.size > 0) await Promise.all(tasks);
    if (failed) throw failed.error;
    log(signal?.aborted ? 'worker: stopped' : `worker: idle for ${options.idleExitSeconds}s, exiting`);
  } finally {
    await pool.close();
    if (!nc.isClosed()) await nc.drain();
  }
}

/** The pool's threads, handed to one task at a time each, and how long their tasks take lately. */
class Threads {
  private readonly waiting: Array<() => void> = [];
  private meanMs: number | undefined;

  constructor(private free: number) {}

  /** Resolves true once a thread is this task's, or false after `waitMs` (or on the abort) without one. */
  acquire(waitMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      const settle = (got: boolean) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', giveUp);
        resolve(got);
      };
      const give = () => settle(true);
      const giveUp = () => {
        const at = this.waiting.indexOf(give);
        if (at >= 0) this.waiting.splice(at, 1);
        settle(false);
      };
      const timer = setTimeout(giveUp, waitMs);
      signal?.addEventListener('abort', giveUp, { once: true });
      this.waiting.push(give);
    });
  }

  release(computedMs?: number): void {
    if (computedMs !== undefined) this.meanMs = this.meanMs === undefined ? computedMs : 0.8 * this.meanMs + 0.2 * computedMs;
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }

  /** Whether tasks lately took less than shortTaskMs each (unknown until one has). */
  short(): boolean {
    return this.meanMs !== undefined && this.meanMs < shortTaskMs;
  }
}

/**
 * Runs one task and commits its reply; acks only once `done.<key>` exists. A task delivered more
 * than maxDeliveries times is not run again: its failure is committed instead. `taken` is called
 * once the task needs its taker no more: its compute is done, or there is none to do.
 */
async function handle(msg: JsMsg, worker: WorkerContext, taken: () => void): Promise<void> {
  const { js, kv, blobs, threads, signal, log } = worker;
  const { request: key, bytes } = msg.json<TaskMessage>();
  const heartbeat = setInterval(() => {
    try {
      msg.working();
    } catch {
      // The connection is gone: the task will be delivered again, and this worker's commit refused or ignored.
    }
  }, ackWaitMs / 3);
  try {
    signal?.throwIfAborted();
    // Delivered again after its worker had committed (or queued twice, by a coordinator that saw
    // no commit before it published): nothing left to do. A first delivery is not looked up: the
    // coordinator publishes only tasks it found not done, so a commit is rare there, and one made
    // meanwhile only costs the task's compute (the create below then finds it).
    if (msg.info.redelivered && (await kv.get(doneKey(key)))?.operation === 'PUT') return msg.ack();
    const lost = msg.info.deliveryCount > maxDeliveries;
    let reply: TaskReply;
    if (lost) {
      log(`worker: fails ${key.slice(0, 12)}`);
      reply = { failure: { kind: 'thread-died', cause: `lost with its worker process ${maxDeliveries} times: killed, or cut off from the broker` } };
    } else {
      const request = bytes === undefined ? await blobs.get(key) : Buffer.from(bytes, 'base64');
      if (!request) throw new Error(`task ${key}: its request is not in ${blobs.location}: does this worker use the coordinator's --store?`);
      if (bytes === undefined ? !whole(request, key) : createHash('sha256').update(request).digest('hex') !== key) {
        throw new Error(`task ${key}: its request (${bytes === undefined ? `in ${blobs.location}` : 'in its message'}) is damaged`);
      }
      // A thread at once, unless this task was taken ahead: then a thread within holdMs, or back to the queue.
      if (!(await threads.acquire(holdMs, signal))) {
        signal?.throwIfAborted();
        return await requeue(msg, js);
      }
      log(`worker: took ${key.slice(0, 12)}`);
      const started = performance.now();
      try {
        reply = await compute(request, worker);
      } finally {
        threads.release(performance.now() - started);
      }
    }
    taken();
    const replySha = await blobs.put(replyToBytes(reply));
    try {
      await kv.create(doneKey(key), replySha);
    } catch (error) {
      if ((await kv.get(doneKey(key)))?.operation !== 'PUT') throw error;
      // Another worker committed first, with the same bytes: its commit stands.
    }
    msg.ack();
    if ('failure' in reply) log(`worker: ${key.slice(0, 12)} failed: ${reply.failure.cause}`);
  } catch (error) {
    if (signal?.aborted) return await requeue(msg, js);
    // The store or broker failed: the task goes back for another worker (or this one), after a pause that grows.
    msg.nak(Math.min(30_000, 1000 * 2 ** (msg.info.deliveryCount - 1)));
    log(`worker: task ${key.slice(0, 12)} handed back: ${messageOf(error)}`);
  } finally {
    clearInterval(heartbeat);
  }
}

/** The task's outcome on this worker's threads: its result, or its own failure (a value, committed like a result). */
async function compute(request: Uint8Array, { blobs, pool, bundles, signal }: WorkerContext): Promise<TaskReply> {
  const packed = requestFromBytes(request);
  let segment = unpackSegment(packed.segment);
  try {
    // Stage code comes from the run's bundle, unpacked here once; data paths still resolve against baseDir.
    if (segment.bundle) segment = fromBundle(segment, await openBundle(segment.bundle.sha256, blobs, bundles));
    return { result: await pool.run({ segment, units: unpackUnits(packed), fresh: packed.fresh }, { signal }) };
  } catch (error) {
    // A refused bundle fails the task (it would be refused again); a store that failed hands it back.
    if (error instanceof BundleRefused) return { failure: taskFailure(error, [segment.source?.id ?? [], ...segment.maps.map((m) => m.id)].flat()) };
    if (!(error instanceof TaskError)) throw error;
    return { failure: error.failure };
  }
}

/**
 * A stopping worker's task, queued again as a new message: a worker that stops is not lost, so
 * its hand-back must not count against the task's deliveries (a nak would).
 */
async function requeue(msg: JsMsg, js: JetStreamClient): Promise<void> {
  try {
    await js.publish(msg.subject, msg.data, { msgID: `${msg.json<TaskMessage>().request}.${nuid.next()}` });
    msg.ack();
  } catch {
    msg.nak();
  }
}

/**
 * The next task of any of the capabilities, or null if none came within a pull. A pull that fails
 * (the broker restarting, the link cut) is one without a task: the worker asks again after a
 * pause rather than dying, as long as its connection is still trying.
 */
async function pull(consumers: Consumer[], nc: NatsConnection): Promise<JsMsg | null> {
  for (const consumer of consumers) {
    try {
      const msg = await consumer.next({ expires: pullMs });
      if (msg) return msg;
    } catch (error) {
      if (nc.isClosed()) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
  return null;
}

// The worker process's side of a distributed run (`quiver worker`): takes tasks from the work
// queue, one per thread of its own pool, and for each writes the reply to the shared store,
// commits it with a KV create of `done.<key>` (the first create wins; a later one wrote the same
// bytes), and only then acks. While the task runs it tells the broker it is still working, so only
// a worker that went quiet has its task delivered again.
import { jetstream, type Consumer, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { connect, nuid, type NatsConnection } from '@nats-io/transport-node';
import type { Blobs } from '../../cache/blobs.ts';
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

interface WorkerContext {
  js: JetStreamClient;
  kv: KV;
  blobs: Blobs;
  pool: LocalExecutor;
  /** Where stage bundles are unpacked. */
  bundles: string;
  signal?: AbortSignal;
  log: (line: string) => void;
}

export async function runNatsWorker(options: NatsWorkerOptions): Promise<void> {
  const { caps = ['cpu'], threads = 1, signal, log = () => undefined } = options;
  const nc = await connect({ servers: options.url, name: 'quiver worker' });
  const bundles = bundleCache();
  const pool = new LocalExecutor({ workers: threads, bundles });
  try {
    const { kv } = await openQueue(nc, caps);
    const js = jetstream(nc);
    const consumers = await Promise.all(caps.map((cap) => js.consumers.get(streamName, consumerName(cap))));
    const worker: WorkerContext = { js, kv, blobs: openBlobs(options.store), pool, bundles, signal, log };
    log(`worker: ${options.url}, ${threads} thread(s), caps ${caps.join(',')}, store ${options.store}`);
    let lastTask = Date.now();
    let running = 0;
    const idle = () => options.idleExitSeconds !== undefined && running === 0 && Date.now() - lastTask >= options.idleExitSeconds * 1000;
    // One taker per thread: a task is taken only when a thread is free to start it at once.
    const take = async (): Promise<void> => {
      while (!signal?.aborted && !idle()) {
        const msg = await pull(consumers, nc);
        if (!msg) continue;
        running++;
        try {
          await handle(msg, worker);
        } finally {
          running--;
          lastTask = Date.now();
        }
      }
    };
    await Promise.all(Array.from({ length: threads }, take));
    log(signal?.aborted ? 'worker: stopped' : `worker: idle for ${options.idleExitSeconds}s, exiting`);
  } finally {
    await pool.close();
    if (!nc.isClosed()) await nc.drain();
  }
}

/**
 * Runs one task and commits its reply; acks only once `done.<key>` exists. A task delivered more
 * than maxDeliveries times is not run again: its failure is committed instead.
 */
async function handle(msg: JsMsg, worker: WorkerContext): Promise<void> {
  const { js, kv, blobs, signal, log } = worker;
  const { request: key } = msg.json<TaskMessage>();
  const heartbeat = setInterval(() => {
    try {
      msg.working();
    } catch {
      // The connection is gone: the task will be delivered again, and this worker's commit refused or ignored.
    }
  }, ackWaitMs / 3);
  try {
    signal?.throwIfAborted();
    // Queued twice, or delivered again after its worker had committed: nothing left to do.
    if ((await kv.get(doneKey(key)))?.operation === 'PUT') return msg.ack();
    const lost = msg.info.deliveryCount > maxDeliveries;
    log(`worker: ${lost ? 'fails' : 'took'} ${key.slice(0, 12)}`);
    const reply: TaskReply = lost
      ? { failure: { kind: 'thread-died', cause: `lost with its worker process ${maxDeliveries} times: killed, or cut off from the broker` } }
      : await compute(key, worker);
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
async function compute(key: string, { blobs, pool, bundles, signal }: WorkerContext): Promise<TaskReply> {
  const request = await blobs.get(key);
  if (!request) throw new Error(`task ${key}: its request is not in ${blobs.location}: does this worker use the coordinator's --store?`);
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

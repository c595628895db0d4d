// The worker process's side of a distributed run (`quiver worker`): takes tasks from the work
// queue, one per thread of its own pool, and for each writes the reply to the shared store,
// commits it with a KV create of `done.<key>` (the first create wins; a later one wrote the same
// bytes), and only then acks. While the task runs it tells the broker it is still working, so only
// a worker that went quiet has its task delivered again.
import { jetstream, type Consumer, type JsMsg } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import type { Blobs } from '../../cache/blobs.ts';
import { openBlobs } from '../../cache/stores/open-store.ts';
import { messageOf } from '../../workflow/errors.ts';
import { replyToBytes, requestFromBytes, unpackSegment, unpackUnits } from '../task-codec.ts';
import { TaskError } from '../task-error.ts';
import type { TaskReply } from '../task.ts';
import { LocalExecutor } from './local.ts';
import { ackWaitMs, consumerName, doneKey, openQueue, streamName, type TaskMessage } from './nats-queue.ts';

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
  kv: KV;
  blobs: Blobs;
  pool: LocalExecutor;
  signal?: AbortSignal;
  log: (line: string) => void;
}

export async function runNatsWorker(options: NatsWorkerOptions): Promise<void> {
  const { caps = ['cpu'], threads = 1, signal, log = () => undefined } = options;
  const nc = await connect({ servers: options.url, name: 'quiver worker' });
  const pool = new LocalExecutor({ workers: threads });
  try {
    const { kv } = await openQueue(nc, caps);
    const js = jetstream(nc);
    const consumers = await Promise.all(caps.map((cap) => js.consumers.get(streamName, consumerName(cap))));
    const worker: WorkerContext = { kv, blobs: openBlobs(options.store), pool, signal, log };
    log(`worker: ${options.url}, ${threads} thread(s), caps ${caps.join(',')}, store ${options.store}`);
    let lastTask = Date.now();
    let running = 0;
    const idle = () => options.idleExitSeconds !== undefined && running === 0 && Date.now() - lastTask >= options.idleExitSeconds * 1000;
    // One taker per thread: a task is taken only when a thread is free to start it at once.
    const take = async (): Promise<void> => {
      while (!signal?.aborted && !idle()) {
        const msg = await pull(consumers);
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

/** Runs one task and commits its reply; acks only once `done.<key>` exists, naks if it cannot get there. */
async function handle(msg: JsMsg, { kv, blobs, pool, signal, log }: WorkerContext): Promise<void> {
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
    log(`worker: took ${key.slice(0, 12)}`);
    const request = await blobs.get(key);
    if (!request) throw new Error(`task ${key}: its request is not in ${blobs.location}: does this worker use the coordinator's --store?`);
    const packed = requestFromBytes(request);
    let reply: TaskReply;
    try {
      reply = { result: await pool.run({ segment: unpackSegment(packed.segment), units: unpackUnits(packed), fresh: packed.fresh }, { signal }) };
    } catch (error) {
      if (!(error instanceof TaskError)) throw error;
      reply = { failure: error.failure }; // the task's own failure is its outcome, committed like a result
    }
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
    // Stopped, or the store or broker failed: the task goes back for another worker (or this one, later).
    msg.nak();
    if (!signal?.aborted) log(`worker: task ${key.slice(0, 12)} handed back: ${messageOf(error)}`);
  } finally {
    clearInterval(heartbeat);
  }
}

/** The next task of any of the capabilities, or null if none came within a pull. */
async function pull(consumers: Consumer[]): Promise<JsMsg | null> {
  for (const consumer of consumers) {
    const msg = await consumer.next({ expires: pullMs });
    if (msg) return msg;
  }
  return null;
}

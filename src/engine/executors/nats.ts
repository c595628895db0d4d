// Runs tasks in worker processes (`quiver worker`) through NATS JetStream: the coordinator's side.
// A task's key is its request's sha256; the message carries the key, and the request itself when
// it is small, else the request is kept in the shared store under that key. The task is done when
// `done.<key>` appears in the KV bucket, naming the reply blob a worker wrote: acks and
// redeliveries are the workers' business, never the truth here.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { KvWatchInclude, type KV, type KvWatchEntry } from '@nats-io/kv';
import { connect, errors, nuid, type NatsConnection, type QueuedIterator } from '@nats-io/transport-node';
import { whole, type Blobs } from '../../cache/blobs.ts';
import { openBlobs } from '../../cache/stores/open-store.ts';
import { packRequest, replyFromBytes, requestToBytes } from '../task-codec.ts';
import { TaskError } from '../task-error.ts';
import type { BundleRef, Executor, SegmentSpec, TaskReply, TaskRequest, TaskResult } from '../task.ts';
import { CoordinatorLease } from './nats-lease.ts';
import { ackWaitMs, doneKey, inlineRequestBytes, openQueue, streamName, taskCapability, taskSubject, type TaskMessage } from './nats-queue.ts';
import { makeBundle, stageFilesOf } from './stage-bundle.ts';

export interface NatsExecutorOptions {
  /** The broker, `nats://HOST:PORT`. */
  url: string;
  /** The folder every worker mounts, for request and reply blobs. */
  store: string;
  /** Tasks to keep queued or running at once (default 16): about the workers' threads in all. */
  concurrency?: number;
  /** Send the tasks that run a model to workers started with `--caps gpu` (otherwise every task goes to `cpu`). */
  gpu?: boolean;
}

/**
 * How often a waiting task checks that its message is still in the queue: a run that shares the
 * task's message with another run, which stopped and deleted it, queues it again.
 */
const recheckMs = 3 * ackWaitMs;

export class NatsExecutor implements Executor {
  /** Callbacks waiting for `done.<key>`, by key: told the reply blob's sha256. */
  private readonly waiting = new Map<string, Set<(reply: string) => void>>();
  private readonly watching: Promise<void>;
  /** Rejects once the watch ends (the connection was lost, or closed): no commit can be seen any more. */
  private readonly lost: Promise<never>;
  /** Each segment as workers get it (with its stage bundle), and each bundle put in the store once per run. */
  private readonly shipped = new WeakMap<SegmentSpec, Promise<SegmentSpec>>();
  private readonly bundles = new Map<string, Promise<BundleRef | undefined>>();

  private constructor(
    readonly concurrency: number,
    private readonly gpu: boolean,
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly kv: KV,
    private readonly watcher: QueuedIterator<KvWatchEntry>,
    private readonly blobs: Blobs,
  ) {
    this.watching = this.watch();
    this.lost = this.watching.then(() => {
      throw new Error(`the connection to ${nc.getServer()} was closed: no more task completions can be seen`);
    });
    this.lost.catch(() => undefined); // observed by each waiting task
  }

  static async connect(options: NatsExecutorOptions): Promise<NatsExecutor> {
    // No async traces: the stack captured in advance for every request (an Error or two each) was
    // about 7% of a worker's CPU for tiny tasks; a failed request still says what failed.
    const nc = await connect({ servers: options.url, noAsyncTraces: true });
    try {
      const { jsm, kv } = await openQueue(nc, ['cpu']);
      // One watch for every task, started before any is published: a commit made after a task's
      // first look at the bucket is seen here.
      const watcher = await kv.watch({ key: doneKey('*'), include: KvWatchInclude.UpdatesOnly });
      return new NatsExecutor(options.concurrency ?? 16, !!options.gpu, nc, jetstream(nc), jsm, kv, watcher, openBlobs(options.store));
    } catch (error) {
      await nc.close();
      throw error;
    }
  }

  private async watch(): Promise<void> {
    for await (const entry of this.watcher) {
      if (entry.operation !== 'PUT') continue; // the deletion of a failure read (see run)
      for (const tell of this.waiting.get(entry.key.slice('done.'.length)) ?? []) tell(entry.string());
    }
  }

  async run(request: TaskRequest, options: { signal?: AbortSignal } = {}): Promise<TaskResult> {
    const bytes = requestToBytes(packRequest({ ...request, segment: await this.ship(request.segment) }));
    const inline = bytes.byteLength <= inlineRequestBytes;
    const key = inline ? createHash('sha256').update(bytes).digest('hex') : await this.blobs.put(bytes);
    const message = JSON.stringify({ request: key, ...(inline ? { bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') } : {}) } satisfies TaskMessage);
    const subject = taskSubject(taskCapability(request.segment, this.gpu), key);
    let reply = await this.reply(await this.completion(key, message, subject, !!request.fresh, options.signal));
    if (!reply) {
      // Committed into another store (the broker outlived it, or the store was emptied): computed again.
      await this.kv.delete(doneKey(key));
      reply = await this.reply(await this.completion(key, message, subject, true, options.signal));
      if (!reply) throw new Error(`task ${key}: its reply is not in ${this.blobs.location}: do the workers use the same --store?`);
    }
    if ('failure' in reply) {
      // A failure completes this try only: cleared, so that a retry (or a later run) computes it again.
      await this.kv.delete(doneKey(key));
      throw new TaskError(reply.failure);
    }
    return reply.result;
  }

  /** The segment with its stage bundle named, once the bundle is in the store; as it is when it uses no stage file. */
  private ship(segment: SegmentSpec): Promise<SegmentSpec> {
    let shipped = this.shipped.get(segment);
    if (!shipped) {
      const files = JSON.stringify([segment.baseDir, ...stageFilesOf(segment)]);
      let bundle = this.bundles.get(files);
      if (!bundle) {
        // Flushed whatever its size: written once per run, a bundle is not written again when lost.
        bundle = makeBundle(segment).then(async (made) => made && { sha256: await this.blobs.put(made.bytes, { durable: true }), dir: made.dir });
        this.bundles.set(files, bundle);
      }
      shipped = bundle.then((ref) => (ref ? { ...segment, bundle: ref } : segment));
      this.shipped.set(segment, shipped);
    }
    return shipped;
  }

  private async reply(sha256: string): Promise<TaskReply | undefined> {
    const bytes = await this.blobs.get(sha256);
    // Not whole: cut short by a machine crash (fs-blobs.ts), as good as absent.
    return bytes && whole(bytes, sha256) ? replyFromBytes(bytes) : undefined;
  }

  /** The reply blob's sha256, once a worker has committed the task; published unless already done. */
  private async completion(key: string, message: string, subject: string, retry: boolean, signal?: AbortSignal): Promise<string> {
    let tell!: (reply: string) => void;
    const done = new Promise<string>((resolve) => (tell = resolve));
    const waiters = this.waiting.get(key) ?? new Set();
    this.waiting.set(key, waiters.add(tell));
    let onAbort: (() => void) | undefined;
    try {
      const committed = await this.patiently(() => this.kv.get(doneKey(key)));
      if (committed?.operation === 'PUT') return committed.string();
      await this.publish(key, message, subject, retry);
      const aborted = new Promise<never>((_, reject) => {
        if (signal?.aborted) reject(signal.reason);
        signal?.addEventListener('abort', (onAbort = () => reject(signal.reason)), { once: true });
      });
      try {
        for (;;) {
          const looked = new AbortController();
          let outcome: string | undefined;
          try {
            outcome = await Promise.race([done, aborted, this.lost, sleep(recheckMs, undefined, { signal: looked.signal }).catch(() => undefined)]);
          } finally {
            looked.abort(); // the timer must not keep a finished coordinator alive
          }
          if (outcome !== undefined) return outcome;
          // Still queued or being worked on (perhaps queued again by a worker, as a new message on
          // the same subject), or committed: nothing to do. Gone and not committed: deleted by
          // another run that shared the task and stopped; queued again for this one.
          if (await this.queued(subject)) continue;
          const committed = await this.patiently(() => this.kv.get(doneKey(key)));
          if (committed?.operation === 'PUT') return committed.string();
          await this.publish(key, message, subject, true);
        }
      } catch (error) {
        // Stopped (the run failed or was interrupted, or the task ran past its timeout): taken out of
        // the queue, so that no worker starts it for nobody. A worker already running it finishes it once.
        if (signal?.aborted) await this.jsm.streams.purge(streamName, { filter: subject }).catch(() => undefined);
        throw error;
      }
    } finally {
      if (onAbort) signal?.removeEventListener('abort', onAbort);
      waiters.delete(tell);
      if (waiters.size === 0) this.waiting.delete(key);
    }
  }

  /** Queues the task unless it is queued already. */
  private async publish(key: string, message: string, subject: string, retry: boolean): Promise<void> {
    // The key as message id: a task published twice (by two coordinators, or a rerun) is queued
    // once. A retry follows a failure that was consumed, so it is a new message.
    const id = retry ? `${key}.${nuid.next()}` : key;
    const ack = await this.patiently(() => this.js.publish(subject, message, { msgID: id }));
    // The broker remembers ids for two minutes: a duplicate of a message no longer queued (done,
    // its failure read and cleared) would be lost, so it is sent again under an id of its own.
    const again = `${key}.${nuid.next()}`;
    if (ack.duplicate && !(await this.queued(subject))) await this.patiently(() => this.js.publish(subject, message, { msgID: again }));
  }

  /**
   * `ask()` asked again while the broker does not answer (killed and restarting: the request timed
   * out, or its JetStream is not up yet) and the connection is still trying to reach it; once the
   * connection gives up, its error. Only for requests that may be repeated: gets, and publishes
   * under a fixed message id (a repeat that did reach the broker is dropped as a duplicate).
   */
  private async patiently<T>(ask: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await ask();
      } catch (error) {
        // No responders comes as itself, or (from a JetStream publish) as the cause of a JetStreamNotEnabled.
        const noResponders = (e: unknown) => e instanceof errors.RequestError && e.isNoResponders();
        const unanswered = error instanceof errors.TimeoutError || noResponders(error) || noResponders((error as Error)?.cause);
        if (!unanswered || this.nc.isClosed()) throw error;
        await sleep(250);
      }
    }
  }

  /** Whether a message of the task's subject is in the queue (delivered or not, but not yet acked). */
  private async queued(subject: string): Promise<boolean> {
    try {
      return (await this.jsm.streams.getMessage(streamName, { last_by_subj: subject })) !== null;
    } catch {
      return false; // no such message: acked and gone
    }
  }

  /** The run's coordinator lease (see nats-lease.ts); rejects with a LeaseHeldError while a live coordinator holds it. */
  lease(run: string): Promise<CoordinatorLease> {
    return CoordinatorLease.take(this.kv, run);
  }

  async close(): Promise<void> {
    this.watcher.stop();
    await this.watching;
    if (!this.nc.isClosed()) await this.nc.drain();
  }
}

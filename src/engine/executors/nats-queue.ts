// What the coordinator and the workers of a distributed run agree on in NATS JetStream: a work
// queue stream of tasks (one subject per capability), the durable pull consumer each capability's
// workers share, and the KV bucket where a task's completion is committed. Whoever starts first
// creates them; adding the same configuration again changes nothing.
import { AckPolicy, jetstreamManager, RetentionPolicy, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import type { SegmentSpec } from '../task.ts';

export const streamName = 'QUIVER_TASKS';
export const bucketName = 'quiver';
/**
 * One subject per task (its key) under its capability: whoever queues a task again (a stopping
 * worker, a task taken ahead and handed back) publishes a new message on the same subject, so the
 * coordinator can still tell that its task is queued by asking for the subject's last message.
 */
export const taskSubject = (cap: string, key: string) => `quiver.tasks.${cap}.${key}`;
export const consumerName = (cap: string) => `workers-${cap}`;
/** `done.<key>` holds the sha256 of the task's reply blob: created once, by the first to finish. */
export const doneKey = (key: string) => `done.${key}`;

/**
 * How long a delivered task may go without a word from its worker before it is delivered again.
 * Workers say they are still working every third of it, so only a worker gone quiet (killed,
 * cut off) loses its task; this is how long such a task waits before it is picked up again.
 */
export const ackWaitMs = 10_000;

/**
 * How many times a task is delivered before it fails: a worker lost while running it (killed, cut
 * off) has it delivered again; lost this often, the task is taken to be what kills its workers and
 * fails as a dead thread does in a local run, which the stage's `retries` then answer. Three, not
 * two: a worker whose link comes back after a cut sends the pulls it asked for meanwhile all at
 * once, and the broker may hand the lost task to one of those (their inboxes are gone), which
 * costs one delivery more without any worker being lost again.
 */
export const maxDeliveries = 3;

/**
 * The stages that run a model inside a task. (model.train and model.apply are reduces: the
 * coordinator runs them itself.)
 */
const modelStages = new Set(['model.predict']);

/** Whose subject a task goes to: `gpu` when it runs a model and the run sends those to gpu workers, else `cpu`. */
export function taskCapability(segment: SegmentSpec, gpu: boolean): 'cpu' | 'gpu' {
  return gpu && [segment.source, ...segment.maps].some((s) => s && modelStages.has(s.use)) ? 'gpu' : 'cpu';
}

/** A message: the sha256 of the task's request, which is also the task's key. */
export interface TaskMessage {
  request: string;
  /**
   * The request itself (base64), when it is small (a tiny task's is about 1 KB): it travels in the
   * message rather than through the store, which saves a file written and read per task. A larger
   * one is the blob named `request` in the store.
   */
  bytes?: string;
}

/** Requests up to this size travel in their message (TaskMessage.bytes). */
export const inlineRequestBytes = 16 * 1024;

export async function openQueue(nc: NatsConnection, caps: string[]): Promise<{ jsm: JetStreamManager; kv: KV }> {
  const jsm = await jetstreamManager(nc);
  const subjects = [taskSubject('*', '*')];
  try {
    await jsm.streams.add({ name: streamName, subjects, retention: RetentionPolicy.Workqueue });
  } catch (error) {
    // A broker that served an older quiver holds the stream with one subject per capability.
    const held = await jsm.streams.info(streamName).catch(() => undefined);
    if (!held || held.config.subjects?.join() === subjects.join()) throw error;
    await jsm.streams.update(streamName, { ...held.config, subjects });
  }
  for (const cap of caps) {
    await jsm.consumers.add(streamName, {
      durable_name: consumerName(cap), filter_subject: taskSubject(cap, '*'), ack_policy: AckPolicy.Explicit, ack_wait: nanos(ackWaitMs),
    });
  }
  const kv = await new Kvm(nc).create(bucketName);
  return { jsm, kv };
}

// Task requests as text plus binary attachments: what crosses to a worker thread (where copying
// one string is far cheaper than structured-cloning thousands of small objects), and, framed as
// bytes, what a worker process reads from the shared store. Byte arrays anywhere in a unit become
// attachments.
import type { SegmentSpec, TaskReply, TaskRequest, TaskUnit } from './task.ts';

export interface PackedRequest {
  /** Segment key, so a worker that knows the segment need not parse its description. */
  key: string;
  /** The segment description as JSON (its input schema in base64). */
  segment: string;
  /** The units as JSON, byte arrays replaced by `{"$bytes": n}`. */
  units: string;
  attachments: Uint8Array[];
  fresh?: boolean;
}

const segmentTexts = new WeakMap<SegmentSpec, string>();

export function packRequest(request: TaskRequest): PackedRequest {
  let segment = segmentTexts.get(request.segment);
  if (segment === undefined) {
    segment = JSON.stringify({ ...request.segment, inputSchema: Buffer.from(request.segment.inputSchema).toString('base64') });
    segmentTexts.set(request.segment, segment);
  }
  const attachments: Uint8Array[] = [];
  const units = JSON.stringify(request.units, (_key, value) => {
    if (value instanceof Uint8Array) return { $bytes: attachments.push(value) - 1 };
    return value;
  });
  return { key: request.segment.key, segment, units, attachments, ...(request.fresh ? { fresh: true } : {}) };
}

export function unpackSegment(text: string): SegmentSpec {
  const spec = JSON.parse(text) as SegmentSpec & { inputSchema: string };
  const bytes = Buffer.from(spec.inputSchema, 'base64');
  return { ...spec, inputSchema: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

export function unpackUnits(packed: PackedRequest): TaskUnit[] {
  return JSON.parse(packed.units, (_key, value) =>
    value !== null && typeof value === 'object' && typeof value.$bytes === 'number' ? packed.attachments[value.$bytes] : value) as TaskUnit[];
}

// Requests and results as one byte string each, for a worker process: they are kept in the shared
// store and only their sha256 travels through the broker. Layout: the JSON's byte length (uint32
// LE), the JSON (with each attachment's length), then the attachments, each starting at a multiple
// of 8 bytes so that Arrow can view their buffers in place.

const align8 = (n: number) => (n + 7) & ~7;

function frame(json: object, attachments: Uint8Array[]): Uint8Array {
  const text = Buffer.from(JSON.stringify({ ...json, sizes: attachments.map((a) => a.byteLength) }));
  let total = align8(4 + text.byteLength);
  for (const a of attachments) total = align8(total + a.byteLength);
  const out = new Uint8Array(total);
  new DataView(out.buffer).setUint32(0, text.byteLength, true);
  out.set(text, 4);
  let at = align8(4 + text.byteLength);
  for (const a of attachments) {
    out.set(a, at);
    at = align8(at + a.byteLength);
  }
  return out;
}

function unframe<T>(input: Uint8Array): { json: T; attachments: Uint8Array[] } {
  // Plain Uint8Array views, never Buffers (a file read gives one): JSON.stringify turns a Buffer
  // into {type, data} before any replacer sees it, so a Buffer attachment would not survive being
  // packed again for a worker thread. A view not on an 8-byte boundary is copied once, so the
  // attachments are.
  let bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  if (bytes.byteOffset % 8 !== 0) bytes = bytes.slice();
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  const { sizes, ...json } = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 4, length).toString()) as T & { sizes: number[] };
  let at = align8(4 + length);
  const attachments = sizes.map((size) => {
    const part = bytes.subarray(at, at + size);
    at = align8(at + size);
    return part;
  });
  return { json: json as T, attachments };
}

export function requestToBytes(packed: PackedRequest): Uint8Array {
  const { attachments, ...json } = packed;
  return frame(json, attachments);
}

export function requestFromBytes(bytes: Uint8Array): PackedRequest {
  const { json, attachments } = unframe<Omit<PackedRequest, 'attachments'>>(bytes);
  return { ...json, attachments };
}

/** A worker's reply: a result's byte arrays (outputs, rejected rows) become attachments. */
export function replyToBytes(reply: TaskReply): Uint8Array {
  const attachments: Uint8Array[] = [];
  const text = JSON.stringify(reply, (_key, value) => (value instanceof Uint8Array ? { $bytes: attachments.push(value) - 1 } : value));
  return frame({ reply: text }, attachments);
}

export function replyFromBytes(bytes: Uint8Array): TaskReply {
  const { json, attachments } = unframe<{ reply: string }>(bytes);
  return JSON.parse(json.reply, (_key, value) =>
    value !== null && typeof value === 'object' && typeof value.$bytes === 'number' ? attachments[value.$bytes] : value) as TaskReply;
}

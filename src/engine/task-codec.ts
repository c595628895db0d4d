// Task requests as text plus binary attachments: what crosses to a worker thread (where copying
// one string is far cheaper than structured-cloning thousands of small objects) and, later, what
// crosses the network to a worker process. Byte arrays anywhere in a unit become attachments.
import type { SegmentSpec, TaskRequest, TaskUnit } from './task.ts';

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

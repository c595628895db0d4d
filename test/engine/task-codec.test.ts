// Requests and replies as the bytes a worker process reads from the shared store: they come back
// equal, with every attachment starting on an 8-byte boundary so Arrow can read it in place.
import { tableFromArrays } from 'apache-arrow';
import { expect, test } from 'vitest';
import { decodeBatches, encodeBatches } from '../../src/arrow/ipc.ts';
import { packRequest, replyFromBytes, replyToBytes, requestFromBytes, requestToBytes, unpackSegment, unpackUnits } from '../../src/engine/task-codec.ts';
import type { TaskReply, TaskRequest } from '../../src/engine/task.ts';

const table = tableFromArrays({ id: BigInt64Array.from([1n, 2n, 3n]), x: Float64Array.from([0.5, 1.5, 2.5]) });
const ipc = encodeBatches(table.schema, table.batches);

test('a request with byte arrays of odd lengths comes back equal', () => {
  const request: TaskRequest = {
    segment: { key: 'seg', baseDir: '/data', catalog: { module: 'file:///catalog.ts', export: 'catalog' }, inputSchema: Uint8Array.of(1, 2, 3), maps: [], exits: [-1] },
    units: [{ partition: { index: 0, key: 'a' }, input: Uint8Array.of(9, 8, 7, 6, 5) }, { partition: { index: 1, key: 'b' }, input: ipc }],
    fresh: true,
  };
  const packed = requestFromBytes(requestToBytes(packRequest(request)));
  expect(packed.fresh).toBe(true);
  expect(unpackSegment(packed.segment)).toEqual(request.segment);
  const units = unpackUnits(packed);
  expect(units).toEqual(request.units);
  for (const unit of units) expect(unit.input!.byteOffset % 8).toBe(0);
  expect(decodeBatches(units[1].input!).batches[0].getChild('x')!.toArray()).toEqual(Float64Array.from([0.5, 1.5, 2.5]));
});

test('a reply, a result with outputs and rejected rows or a failure, comes back equal', () => {
  const result: TaskReply = {
    result: { outputs: [Uint8Array.of(1), null, ipc], batchCounts: [[1], [], [1]], counts: [[{ rowsIn: 3, rowsOut: 3, quarantined: 0, seconds: 0.1 }]], rejected: [{ stage: 0, unit: 0, rows: 1, bytes: null }] },
  };
  const back = replyFromBytes(replyToBytes(result));
  expect(back).toEqual(result);
  if (!('result' in back)) throw new Error('a result was expected');
  expect(back.result.outputs[2]!.byteOffset % 8).toBe(0);
  const failure: TaskReply = { failure: { kind: 'stage', stage: 'dbl', partition: 'p-0', cause: 'asked to fail' } };
  expect(replyFromBytes(replyToBytes(failure))).toEqual(failure);
});

test('a request read from a file (a Buffer) packs again for a worker thread with its byte arrays intact', () => {
  const request: TaskRequest = {
    segment: { key: 'seg', baseDir: '/data', catalog: { module: 'file:///catalog.ts', export: 'catalog' }, inputSchema: Uint8Array.of(1), maps: [], exits: [-1] },
    units: [{ partition: { index: 0, key: 'a' }, input: ipc }],
  };
  // What a worker process does: read the bytes from the store, then hand the request to its thread pool.
  const read = Buffer.from(requestToBytes(packRequest(request)));
  const units = unpackUnits(requestFromBytes(read));
  expect(Buffer.isBuffer(units[0].input)).toBe(false);
  // Packed again, the bytes travel as an attachment, not spelled out as a Buffer's JSON ({type, data}).
  const again = packRequest({ segment: request.segment, units });
  expect(again.units).toContain('"$bytes":0');
  expect(again.units).not.toContain('"type":"Buffer"');
  expect(again.attachments[0]).toEqual(ipc);
  expect(decodeBatches(units[0].input!).batches[0].numRows).toBe(3);
});

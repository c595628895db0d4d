import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Float64, makeData, RecordBatch, Schema, Field, Struct } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { Channel, type Item } from '../../src/engine/channel.ts';
import { scratchDir } from '../helpers.ts';

const schema = new Schema([new Field('x', new Float64(), false)]);
const batchOf = (values: number[]) => new RecordBatch(schema, makeData({
  type: new Struct(schema.fields), length: values.length,
  children: [makeData({ type: new Float64(), length: values.length, nullCount: 0, data: Float64Array.from(values) })],
}));
const partition = { index: 0, key: 'p' };

async function drain(channel: Channel): Promise<number[]> {
  const seen: number[] = [];
  for await (const item of channel) if (item.kind === 'batch') seen.push(...(item.batch.getChild('x')!.toArray() as Float64Array));
  return seen;
}

describe('Channel', () => {
  test('a writer waits while the bytes held exceed the budget, and resumes as the reader drains', async () => {
    const channel = new Channel({ budgetBytes: 8 * 100 }); // room for one 100-row float64 batch
    let written = 0;
    const writer = (async () => {
      await channel.put({ kind: 'start', partition });
      for (let i = 0; i < 10; i++) {
        await channel.put({ kind: 'batch', batch: batchOf(Array.from({ length: 100 }, (_, j) => i * 100 + j)) });
        written++;
      }
      await channel.put({ kind: 'end', partition });
      channel.close();
    })();
    await new Promise((r) => setTimeout(r, 20));
    expect(written).toBe(1); // the second batch would exceed the budget: the writer waits
    const seen = await drain(channel);
    await writer;
    expect(seen).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(channel.peakBytes).toBeLessThanOrEqual(8 * 100);
  });

  test('a spilling channel never waits, keeps order, and removes its file', async () => {
    const spillFile = join(scratchDir(), 'edge.arrows');
    const channel = new Channel({ budgetBytes: 8 * 100, spillFile });
    await channel.put({ kind: 'start', partition });
    for (let i = 0; i < 50; i++) await channel.put({ kind: 'batch', batch: batchOf(Array.from({ length: 100 }, (_, j) => i * 100 + j)) });
    await channel.put({ kind: 'end', partition });
    channel.close();
    expect(channel.spilledBytes).toBeGreaterThan(49 * 800);
    expect(existsSync(spillFile)).toBe(true);
    const items: Item['kind'][] = [];
    const seen: number[] = [];
    for await (const item of channel) {
      items.push(item.kind);
      if (item.kind === 'batch') seen.push(...(item.batch.getChild('x')!.toArray() as Float64Array));
    }
    expect(seen).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    expect(items[0]).toBe('start');
    expect(items.at(-1)).toBe('end');
    expect(existsSync(spillFile)).toBe(false);
  });

  test('once the reader abandons it, writers go on without waiting', async () => {
    const channel = new Channel({ budgetBytes: 800 });
    await channel.put({ kind: 'batch', batch: batchOf(Array.from({ length: 100 }, () => 1)) });
    channel.abandon();
    for (let i = 0; i < 10; i++) await channel.put({ kind: 'batch', batch: batchOf(Array.from({ length: 100 }, () => 1)) });
    expect(channel.isAbandoned).toBe(true);
  });

  test('a failure reaches a waiting writer and the reader', async () => {
    const channel = new Channel({ budgetBytes: 800 });
    await channel.put({ kind: 'batch', batch: batchOf(Array.from({ length: 100 }, () => 1)) });
    const waiting = channel.put({ kind: 'batch', batch: batchOf(Array.from({ length: 100 }, () => 1)) });
    channel.fail(new Error('boom'));
    await expect(waiting).rejects.toThrow('boom');
    await expect(drain(channel)).rejects.toThrow('boom');
  });
});

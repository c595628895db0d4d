// source.sigmf against a second reader: the Mountaintop CPIs were converted to SigMF from the
// MATLAB files in ../shared/data/radar/; scipy.io.loadmat reads those (6464 × 14 complex: 16 pulses
// × 404 range samples, time-ordered, by 14 channels), so every sample of every channel can be compared.
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { sigmfSource } from '../../../connectors/sigmf/source.ts';
import { scratchDir, sharedData } from '../../helpers.ts';
import { readSource } from '../stage-harness.ts';

const radar = sharedData('radar');
const hasScipy = (() => {
  try {
    execFileSync('python3', ['-c', 'import scipy.io']);
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!radar)('source.sigmf', () => {
  test.skipIf(!hasScipy)('every sample of every channel equals scipy reading the original .mat', async () => {
    const dump = join(scratchDir(), 'cpi1.f64');
    // The .mat's cpi1 as (channel, pulse, sample, re/im) float64, the order the tensor has.
    execFileSync('python3', ['-c', `
import numpy as np, scipy.io as s
m = s.loadmat(${JSON.stringify(join(radar!, 'mountaintop_stap3001v1.mat'))})['cpi1']   # (16*404, 14)
x = m.T.reshape(14, 16, 404)
np.stack([x.real, x.imag], axis=-1).astype('<f8').tofile(${JSON.stringify(dump)})
`]);
    const reference = new Float64Array(readFileSync(dump).buffer.slice(0));
    const { schema, partitions } = await readSource(sigmfSource, { path: 'mountaintop_stap3001v1_cpi1.sigmf-meta' }, radar!);
    expect(JSON.parse(schema.fields[3].metadata.get('ARROW:extension:metadata')!).shape).toEqual([16, 404, 2]);
    expect(partitions).toHaveLength(1);
    const [batch] = partitions[0].batches;
    expect(batch.numRows).toBe(14);
    expect([...batch.getChild('channel')!.toArray()]).toEqual([...Array(14).keys()]);
    expect(batch.getChild('pri_s')!.get(0)).toBeCloseTo(0.0016, 12);
    expect(batch.getChild('samples')!.get(0)).toBe(404);
    expect(batch.getChild('center_frequency_hz')!.get(0)).toBe(435e6);
    const values = batch.getChild('data')!.data[0].children[0].values as Float32Array;
    expect(values.length).toBe(reference.length);
    let worst = 0;
    for (let i = 0; i < values.length; i++) {
      const scale = Math.max(1e-30, Math.abs(reference[i]));
      worst = Math.max(worst, Math.abs(values[i] - reference[i]) / scale);
    }
    // The SigMF file holds the .mat's values as float32: within float32 rounding of them.
    expect(worst).toBeLessThan(1e-6);
  });

  test('a glob reads one partition per CPI, in path order; a data file of a wrong size is named', async () => {
    const { partitions } = await readSource(sigmfSource, { path: 'mountaintop_stap3001v1_cpi*.sigmf-meta' }, radar!);
    expect(partitions.map((p) => p.key)).toEqual(['mountaintop_stap3001v1_cpi1.sigmf-meta', 'mountaintop_stap3001v1_cpi2.sigmf-meta']);

    const dir = scratchDir();
    const meta = JSON.parse(readFileSync(join(radar!, 'mountaintop_stap3001v1_cpi1.sigmf-meta'), 'utf8'));
    writeFileSync(join(dir, 'cut.sigmf-meta'), JSON.stringify(meta));
    writeFileSync(join(dir, 'cut.sigmf-data'), readFileSync(join(radar!, 'mountaintop_stap3001v1_cpi1.sigmf-data')).subarray(0, 1000));
    await expect(readSource(sigmfSource, { path: 'cut.sigmf-meta' }, dir)).rejects.toThrow(
      /^cut\.sigmf-data: holds 1000 bytes, not a whole number of CPIs of 723968 bytes \(16 pulses × 404 samples × 14 channels of cf32_le\)$/);

    // Two CPIs in one data file: two partitions.
    writeFileSync(join(dir, 'two.sigmf-meta'), JSON.stringify(meta));
    const one = readFileSync(join(radar!, 'mountaintop_stap3001v1_cpi1.sigmf-data'));
    writeFileSync(join(dir, 'two.sigmf-data'), Buffer.concat([one, one]));
    const two = await readSource(sigmfSource, { path: 'two.sigmf-meta' }, dir);
    expect(two.partitions.map((p) => p.key)).toEqual(['two.sigmf-meta#cpi0', 'two.sigmf-meta#cpi1']);
    expect(two.partitions[1].batches[0].getChild('cpi')!.get(0)).toBe(1);

    // ci16: integers read as they are.
    writeFileSync(join(dir, 'int.sigmf-meta'), JSON.stringify({ ...meta, global: { ...meta.global, 'core:datatype': 'ci16_le', 'core:num_channels': 2, 'radar:pulses_per_cpi': 1, 'radar:samples_per_pulse': 2 } }));
    writeFileSync(join(dir, 'int.sigmf-data'), Buffer.from(new Int16Array([1, -1, 2, -2, 3, -3, 4, -4]).buffer));
    const ints = await readSource(sigmfSource, { path: 'int.sigmf-meta' }, dir);
    const data = ints.partitions[0].batches[0].getChild('data')!;
    expect([...(data.get(0)!.toArray() as Float32Array)]).toEqual([1, -1, 3, -3]); // channel 0: samples 0 and 1
    expect([...(data.get(1)!.toArray() as Float32Array)]).toEqual([2, -2, 4, -4]);
    copyFileSync(join(dir, 'int.sigmf-meta'), join(dir, 'lonely.sigmf-meta'));
    await expect(readSource(sigmfSource, { path: 'lonely.sigmf-meta' }, dir)).rejects.toThrow(/^lonely\.sigmf-data: is missing/);
  });

  test('fuzzed meta and data files: the recording reads, or one InputError names the file', async () => {
    const seed = 20261128;
    let state = seed;
    const random = (n: number) => ((state = (state * 1103515245 + 12345) % 2147483648) % n);
    const dir = scratchDir();
    const metaText = readFileSync(join(radar!, 'mountaintop_stap3001v1_cpi1.sigmf-meta'));
    const dataBytes = readFileSync(join(radar!, 'mountaintop_stap3001v1_cpi1.sigmf-data'));
    const outcomes = { read: 0, error: 0 };
    for (let i = 0; i < 60; i++) {
      const meta = Buffer.from(metaText);
      let data = dataBytes;
      const kind = i % 3;
      if (kind === 0) meta[random(meta.length)] = random(256); // a byte of the meta changed
      else if (kind === 1) writeFileSync(join(dir, `m${i}.sigmf-meta`), meta.subarray(0, random(meta.length))); // meta cut short
      else data = dataBytes.subarray(0, random(dataBytes.length)); // data cut short
      if (kind !== 1) writeFileSync(join(dir, `m${i}.sigmf-meta`), meta);
      writeFileSync(join(dir, `m${i}.sigmf-data`), data);
      const what = `seed ${seed}, case ${i} (${['byte changed', 'meta cut', 'data cut'][kind]})`;
      try {
        const { partitions } = await readSource(sigmfSource, { path: `m${i}.sigmf-meta` }, dir);
        expect(partitions[0].batches[0].numRows, what).toBeGreaterThan(0);
        outcomes.read++;
      } catch (error) {
        expect((error as Error).constructor.name, `${what}: ${(error as Error).message}`).toBe('InputError');
        expect((error as Error).message, what).toMatch(new RegExp(`^m${i}\\.sigmf-(meta|data)`));
        outcomes.error++;
      }
    }
    expect(outcomes.read).toBeGreaterThan(0);
    expect(outcomes.error).toBeGreaterThan(20);
  });
});

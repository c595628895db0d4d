// Fuzzed SigMF recordings for source.sigmf: the meta JSON mutated field by field (wrong or
// unknown datatype; zero, negative, fractional, string or huge counts, num_channels included;
// sample rate and PRI that are not positive; captures and annotations outside the data; another
// root or `global`; broken JSON text) and the data file damaged (cut anywhere, extended, bytes
// flipped, missing). Every case is read fully in a worker thread with a time limit (fuzz-worker.mjs)
// and must give sane batches or one InputError naming the meta or data file: never a hang, a
// crash, another error, or a peak RSS of 1 GB. Then the CPI shape bombs of the user study: a
// 1 × 1 CPI over a 256 MiB recording, and one CPI larger than a task may hold (sparse files,
// made with truncate: they cost no disk).
//
// QUIVER_FUZZ_SEED=<n> replays another seed, QUIVER_FUZZ_CASES=<n> changes the cases per seed file.
import { copyFileSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { repoRoot, scratchDir, sharedData } from '../helpers.ts';
import { FuzzWorker, type Verdict } from './fuzz-pool.ts';
import { prng, type Rng } from './mutations.ts';

const SEED = Number(process.env.QUIVER_FUZZ_SEED ?? 20_261_127);
const CASES = Number(process.env.QUIVER_FUZZ_CASES ?? 60);
/** A generous limit: the seed recordings are 1 MiB or less, and read in well under a second. */
const CASE_LIMIT_MS = 60_000; // a hang, not a slow read on a busy machine
const GB = 1e9;

const dir = scratchDir('quiver-fuzz-sigmf-');
const pool = new FuzzWorker(60_000);
afterAll(() => pool.close());


interface Seed {
  name: string;
  meta: Record<string, unknown>;
  data: Uint8Array;
  /** Rows it reads as: CPIs × channels. */
  rows: number;
}

const seeds: Seed[] = [];
const load = (folder: string, name: string, rows: number) => seeds.push({
  name: name.replace(/_/g, '-'),
  meta: JSON.parse(readFileSync(join(folder, `${name}.sigmf-meta`), 'utf8')),
  data: new Uint8Array(readFileSync(join(folder, `${name}.sigmf-data`))),
  rows,
});
load(join(repoRoot, 'data', 'radar'), 'sim-demo', 8); // 8 CPIs of 32 × 512, one channel
const radar = sharedData('radar');
if (radar) load(radar, 'mountaintop_stap3001v1_cpi1', 14); // one CPI of 16 × 404, 14 channels

/** A mutated copy of a seed: meta (as JSON text, or absent) and data (absent: no data file). */
interface Case {
  what: string;
  meta: string;
  data?: Uint8Array;
}

const counts = [0, -16, 1.5, 2, 3, 7, 2 ** 31 - 1, 2 ** 31, 2 ** 53, 1e308, '16', null, true];

function mutate(seed: Seed, rng: Rng): Case {
  const meta = structuredClone(seed.meta) as { global: Record<string, unknown>; captures: Record<string, unknown>[]; annotations: Record<string, unknown>[] };
  const text = () => JSON.stringify(meta);
  const set = (key: string, values: readonly unknown[]): Case => {
    const value = rng.pick(values);
    meta.global[key] = value;
    return { what: `global.${key} = ${JSON.stringify(value)}`, meta: text(), data: seed.data };
  };
  const samples = seed.data.byteLength / 8 / Number(seed.meta.global && (seed.meta.global as Record<string, number>)['core:num_channels']);
  const kind = rng.pick(['datatype', 'channels', 'pulses', 'samples', 'rate', 'pri', 'capture', 'annotation', 'root', 'text', 'cut', 'extend', 'flip', 'missing'] as const);
  switch (kind) {
    case 'datatype': return set('core:datatype', ['ci16_le', 'cf64_le', 'cf32_be', 'ri8', 'cu8', '', 7, null]);
    case 'channels': return set('core:num_channels', counts);
    case 'pulses': return set('radar:pulses_per_cpi', counts);
    case 'samples': return set('radar:samples_per_pulse', counts);
    case 'rate': return set('core:sample_rate', [0, -1e6, 'fast', null, 1e308]);
    case 'pri': return set('radar:pri_s', [0, -0.001, '1ms', null]);
    case 'capture': {
      const value = rng.pick([-1, 1.5, samples - 1, samples, 2 ** 53, '0', null]);
      meta.captures[0]['core:sample_start'] = value;
      return { what: `captures[0].core:sample_start = ${value}`, meta: text(), data: seed.data };
    }
    case 'annotation': {
      meta.annotations ??= [];
      if (meta.annotations.length === 0) meta.annotations.push({ 'core:sample_start': 0, 'core:sample_count': 1 });
      const i = rng.int(meta.annotations.length);
      const key = rng.pick(['core:sample_start', 'core:sample_count']);
      const value = rng.pick([-5, 0.5, samples, samples + 1, 2 ** 40, 'x']);
      meta.annotations[i][key] = value;
      return { what: `annotations[${i}].${key} = ${value}`, meta: text(), data: seed.data };
    }
    case 'root': {
      const value = rng.pick([null, [], 5, 'x', {}]);
      if (rng.int(2)) return { what: `the meta file is ${JSON.stringify(value)}`, meta: JSON.stringify(value), data: seed.data };
      (meta as Record<string, unknown>)[rng.pick(['global', 'captures', 'annotations'])] = value;
      return { what: `a top-level member is ${JSON.stringify(value)}`, meta: text(), data: seed.data };
    }
    case 'text': {
      const json = text();
      const at = rng.int(json.length);
      if (rng.int(2)) return { what: `meta cut to ${at} bytes`, meta: json.slice(0, at), data: seed.data };
      const c = String.fromCharCode(rng.pick([0x22, 0x2c, 0x7b, 0x7d, 0x5b, 0x30, 0x2d, 0x65]));
      return { what: `meta byte ${at} set to '${c}'`, meta: json.slice(0, at) + c + json.slice(at + 1), data: seed.data };
    }
    case 'cut': {
      const at = rng.int(seed.data.byteLength);
      return { what: `data cut to ${at} bytes`, meta: text(), data: seed.data.slice(0, at) };
    }
    case 'extend': {
      const n = 1 + rng.int(64);
      const data = new Uint8Array(seed.data.byteLength + n);
      data.set(seed.data);
      return { what: `data extended by ${n} bytes`, meta: text(), data };
    }
    case 'flip': {
      const data = seed.data.slice();
      const where = Array.from({ length: 1 + rng.int(8) }, () => rng.int(data.byteLength));
      for (const p of where) data[p] ^= 1 + rng.int(255);
      return { what: `data bytes flipped at ${where.join(', ')}`, meta: text(), data };
    }
    case 'missing':
      return { what: 'no data file', meta: text() };
  }
}

/** Writes `name`.sigmf-meta (and -data) and reads it in the worker. */
async function readCase(name: string, meta: string, data: Uint8Array | undefined, limitMs = CASE_LIMIT_MS): Promise<Verdict> {
  writeFileSync(join(dir, `${name}.sigmf-meta`), meta);
  if (data) writeFileSync(join(dir, `${name}.sigmf-data`), data);
  return pool.read({ reader: 'source.sigmf', params: { path: `${name}.sigmf-meta` }, baseDir: dir }, limitMs);
}

describe('fuzzed SigMF recordings: sane batches or one InputError naming the file', { timeout: 600_000 }, () => {
  test.each(seeds.map((s) => [s.name, s] as const))('%s', async (_name, seed) => {
    const tally = { ok: 0, errors: 0, messages: new Map<string, number>() };
    const first = await readCase(seed.name, JSON.stringify(seed.meta), seed.data);
    expect('rows' in first && first.rows, JSON.stringify(first).slice(0, 400)).toBe(seed.rows);

    const rng = prng(SEED ^ seed.name.length * 0x9e3779b9);
    let peak = first.peakRss;
    for (let i = 0; i < CASES; i++) {
      const { what, meta, data } = mutate(seed, rng);
      const name = `${seed.name}-${i}`;
      const verdict = await readCase(name, meta, data);
      const where = `QUIVER_FUZZ_SEED=${SEED}, case ${i} of ${seed.name}: ${what} → ${JSON.stringify(verdict).slice(0, 500)}`;
      expect.soft(verdict.peakRss, where).toBeLessThan(GB);
      peak = verdict.peakRss;
      if (!('ok' in verdict)) {
        expect.soft('hang' in verdict ? 'hang' : 'crash', where).toBe('an answer');
        continue;
      }
      if (verdict.ok) {
        tally.ok++;
        expect.soft(verdict.rows, where).toBeGreaterThan(0);
        continue;
      }
      tally.errors++;
      expect.soft(verdict.name, where).toBe('InputError');
      expect.soft(verdict.message, where).toMatch(new RegExp(`^${name}\\.sigmf-(meta|data): `));
      expect.soft(verdict.message, where).not.toMatch(/\n/);
      const cause = verdict.message.replace(/^.*?: /, '').replace(/\d+/g, 'N').slice(0, 70);
      tally.messages.set(cause, (tally.messages.get(cause) ?? 0) + 1);
    }
    const top = [...tally.messages.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([m, n]) => `${n}× ${m}`);
    console.log(`source.sigmf ${seed.name} (QUIVER_FUZZ_SEED=${SEED}, ${CASES} cases): ${tally.ok} read, ${tally.errors} InputErrors, `
      + `peak RSS of the process ${(first.peakRss / 1e6).toFixed(0)} MB after the seed, ${(peak / 1e6).toFixed(0)} MB after the cases\n  ${top.join('\n  ')}`);
    // Not vacuous: some mutations leave a readable recording (flipped samples), most are caught.
    expect(tally.ok).toBeGreaterThan(0);
    expect(tally.errors).toBeGreaterThan(CASES / 3);
  });
});

describe('CPI shape bombs: refused while listing, naming the file and what to change', () => {
  const sim = seeds[0];
  const recording = (name: string, global: Record<string, unknown>, bytes: number) => {
    const meta = JSON.stringify({ ...sim.meta, global: { ...(sim.meta.global as object), ...global }, annotations: [] });
    writeFileSync(join(dir, `${name}.sigmf-data`), '');
    truncateSync(join(dir, `${name}.sigmf-data`), bytes); // sparse: no disk, reads as zeros
    return readCase(name, meta, undefined);
  };

  test('1 × 1 CPIs over a 256 MiB recording: 33,554,432 partitions are refused, not planned', async () => {
    const verdict = await recording('one-by-one', { 'radar:pulses_per_cpi': 1, 'radar:samples_per_pulse': 1 }, 256 * 1024 ** 2);
    expect(verdict).toMatchObject({ ok: false, name: 'InputError' });
    expect('message' in verdict && verdict.message).toBe('one-by-one.sigmf-meta: makes 33554432 partitions, more than the 1000000 one source may have; '
      + "one per CPI of 1 pulses × 1 samples × 1 channels of cf32_le: are radar:pulses_per_cpi and radar:samples_per_pulse the recording's?");
    expect(verdict.peakRss).toBeLessThan(GB);
  });

  test('one CPI of 8 GiB: more than a task may hold, refused before any of it is read', async () => {
    const verdict = await recording('huge-cpi', { 'radar:pulses_per_cpi': 32768, 'radar:samples_per_pulse': 32768 }, 8 * 1024 ** 3);
    expect(verdict).toMatchObject({ ok: false, name: 'InputError' });
    expect('message' in verdict && verdict.message).toMatch(
      /^huge-cpi\.sigmf-data: one CPI \(32768 pulses × 32768 samples × 1 channels of cf32_le\) with its values: 17179869184 bytes, more than the \d+ bytes one task may hold/);
    expect(verdict.peakRss).toBeLessThan(GB);
  });

  test('a glob whose recordings together make too many partitions: the pattern is named', async () => {
    for (const k of [0, 1]) {
      copyFileSync(join(repoRoot, 'data', 'radar', 'sim-demo.sigmf-data'), join(dir, `pair-${k}.sigmf-data`));
      truncateSync(join(dir, `pair-${k}.sigmf-data`), 5 * 1024 ** 2); // 655360 CPIs of one sample each
      writeFileSync(join(dir, `pair-${k}.sigmf-meta`), JSON.stringify({ ...sim.meta, global: { ...(sim.meta.global as object), 'radar:pulses_per_cpi': 1, 'radar:samples_per_pulse': 1 }, annotations: [] }));
    }
    const verdict = await pool.read({ reader: 'source.sigmf', params: { path: 'pair-*.sigmf-meta' }, baseDir: dir }, CASE_LIMIT_MS);
    expect('message' in verdict && verdict.message).toBe('pair-*.sigmf-meta: makes 1310720 partitions, more than the 1000000 one source may have; '
      + 'one per CPI of every file matched: match fewer files');
  });
});

// Parse throughput of source.csv: a ~100 MB generated CSV (4 float64 columns + 1 int64), read in
// one worker-less call to read(): the file as one chunk that read() loads itself, and the same
// bytes already in memory (as a chunk of a large file reaches a worker). Not a test: run it with
//   node --import tsx test/connectors/csv/throughput.ts [MB]
// It prints MB/s for short decimals (the fast path) and for full-precision doubles (17 digits,
// which fall back to Number() on the text).
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { csvSource } from '../../../connectors/csv/source.ts';

const targetMB = Number(process.argv[2] ?? 100);
const dir = mkdtempSync(join(tmpdir(), 'quiver-csv-bench-'));

function generate(path: string, value: (i: number, c: number) => string): number {
  const parts: string[] = ['a,b,c,d,n\n'];
  let bytes = 10;
  let i = 0;
  let seed = 12345;
  const rand = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296;
  };
  while (bytes < targetMB * 1e6) {
    const line = `${value(rand(), 0)},${value(rand(), 1)},${value(rand(), 2)},${value(rand(), 3)},${i * 7919}\n`;
    parts.push(line);
    bytes += line.length;
    i++;
  }
  writeFileSync(path, parts.join(''));
  return i;
}

async function measure(label: string, value: (x: number, c: number) => string) {
  const path = join(dir, `${label}.csv`);
  const rows = generate(path, value);
  const size = statSync(path).size;
  const params = csvSource.params.parse({ path, chunkBytes: 2 ** 30 }); // the largest: one chunk, the whole file
  const { schema, partitions } = await csvSource.discover(params, { baseDir: dir });
  const [whole] = [...(partitions[0].chunks() as Iterable<Record<string, unknown>>)];
  // The same records already in memory, as a chunk cut from a large file arrives in a worker.
  const bytes = new Uint8Array(readFileSync(path));
  const data = bytes.slice(bytes.indexOf(10) + 1);
  const inMemory = { path, bytes: data.byteLength, data, firstLine: 2 };
  // Wall time, and the CPU time of this process (less disturbed when the machine is shared).
  const run = (chunk: Record<string, unknown>) => {
    const started = performance.now();
    const cpu = process.cpuUsage();
    let n = 0;
    for (const batch of csvSource.read(chunk, params, { schema, partition: { index: 0, key: path } }) as Iterable<{ numRows: number }>) n += batch.numRows;
    if (n !== rows) throw new Error(`read ${n} rows, wrote ${rows}`);
    const used = process.cpuUsage(cpu);
    return { wall: (performance.now() - started) / 1000, cpu: (used.user + used.system) / 1e6 };
  };
  const report = (what: string, times: { wall: number; cpu: number }[]) => {
    const wall = Math.min(...times.map((t) => t.wall));
    const cpu = Math.min(...times.map((t) => t.cpu));
    console.log(`  ${what}: wall ${times.map((t) => t.wall.toFixed(2)).join(' / ')} s, best ${(size / 1e6 / wall).toFixed(0)} MB/s; `
      + `cpu best ${cpu.toFixed(2)} s, ${(size / 1e6 / cpu).toFixed(0)} MB/s`);
  };
  console.log(`${label}: ${(size / 1e6).toFixed(1)} MB, ${rows} rows; ${schema.fields.map((f) => `${f.name}: ${f.type}`).join(', ')}`);
  report('read() of the whole file (file I/O included)', [run(whole), run(whole), run(whole)]);
  report('read() of the bytes in memory (parse only)  ', [run(inMemory), run(inMemory), run(inMemory)]);
}

try {
  await measure('short-decimals', (x, c) => (x * 1000 - 500).toFixed(2 + c));
  await measure('full-precision', (x) => String(x * 1000 - 500));
} finally {
  rmSync(dir, { recursive: true, force: true });
}

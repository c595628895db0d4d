// Preloaded (node --import) into a process the memory benchmark starts: on exit, writes the
// process's peak resident memory (main thread and worker threads together: getrusage ru_maxrss)
// as JSON to the file PEAK_RSS_FILE names. With MEMORY_BREAKDOWN=1 it also samples, every 50 ms,
// what the main thread holds, and keeps the sample taken when resident memory was highest.
import { writeFileSync } from 'node:fs';

const file = process.env.PEAK_RSS_FILE;
const MiB = (n) => Math.round(n / 2 ** 20);
let top = { rss: 0 };
if (file && process.env.MEMORY_BREAKDOWN) {
  let wasm;
  import('parquet-wasm').then((pw) => (wasm = pw.wasmMemory), () => undefined);
  setInterval(() => {
    const m = process.memoryUsage();
    if (m.rss > top.rss) top = { rss: MiB(m.rss), heapUsed: MiB(m.heapUsed), heapTotal: MiB(m.heapTotal), arrayBuffers: MiB(m.arrayBuffers), external: MiB(m.external), parquetWasm: wasm ? MiB(wasm().buffer.byteLength) : 0 };
  }, 50).unref();
}
if (file) {
  process.on('exit', () => writeFileSync(file, JSON.stringify({ peakRssMb: process.resourceUsage().maxRSS / 1024, ...(top.rss ? { atPeak: top } : {}) })));
}

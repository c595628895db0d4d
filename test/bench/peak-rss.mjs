// Preloaded (node --import) into a process the memory benchmark starts: on exit, writes the
// process's peak resident memory (main thread and worker threads together) as JSON to the file
// PEAK_RSS_FILE names. From /proc/self/status VmHWM, not getrusage's ru_maxrss: Linux carries
// ru_maxrss across exec, so a child would report its parent's size at the fork if that was larger. With MEMORY_BREAKDOWN=1 it also samples, every 50 ms,
// what the main thread holds, and keeps the sample taken when resident memory was highest.
import { readFileSync, writeFileSync } from 'node:fs';

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
  const peakKb = () => Number(/VmHWM:\s*(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? process.resourceUsage().maxRSS);
  process.on('exit', () => writeFileSync(file, JSON.stringify({ peakRssMb: peakKb() / 1024, ...(top.rss ? { atPeak: top } : {}) })));
}

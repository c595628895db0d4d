// FITS image reading, whole versus in blocks of rows: an 8192 × 8192 float32 image (256 MiB) written
// by sink.fits's writer is read by source.fits once whole and once with block_rows 256, each in a
// fresh process, summing every pixel; peak RSS and time of each, and the sums must agree. Memory
// in blocks should stay near the block's size (8 MiB), not the image's: the figure is how far each
// process's peak RSS rose above its RSS before reading. Also astropy's reading of the same
// file (Debian's python3-astropy, here only) for speed.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { imageHdu } from '../../connectors/fits/write.ts';
import { benchDir, cleanup, mb, report } from './common.ts';

const N = 8192;
if (process.argv[2] === 'read') {
  // Child: read the file, whole or in blocks, and print what it saw.
  const { fitsSource } = await import('../../connectors/fits/source.ts');
  const { readSource } = await import('../connectors/stage-harness-plain.ts');
  const before = process.memoryUsage().rss; // everything loaded, nothing read
  const started = performance.now();
  const how = process.argv[4];
  const blockRows = how === 'whole' ? undefined : Number(how);
  const sum = await readSource(fitsSource, { path: process.argv[3], ...(blockRows ? { block_rows: blockRows } : {}) });
  // How far the peak RSS rose above the RSS before reading.
  console.log(JSON.stringify({ sum, seconds: (performance.now() - started) / 1000, rss: process.resourceUsage().maxRSS * 1024 - before }));
  process.exit(0);
}

const dir = benchDir();
try {
  const file = join(dir, 'image.fits');
  const values = Float32Array.from({ length: N * N }, (_, i) => (i % 1000) / 7);
  writeFileSync(file, imageHdu(values, [N, N], true));
  const once = (how: string) => JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', import.meta.filename, 'read', file, how], { encoding: 'utf8' }).trim().split('\n').pop()!) as { sum: number; seconds: number; rss: number };
  // Best of three each, taken in turn: the first process of all also fills tsx's compile cache.
  const runs = { whole: [] as ReturnType<typeof once>[], '256': [] as ReturnType<typeof once>[] };
  for (let round = 0; round < 3; round++) for (const how of ['whole', '256'] as const) runs[how].push(once(how));
  const child = (how: keyof typeof runs) => runs[how].reduce((a, b) => (b.rss < a.rss ? { ...b, seconds: Math.min(a.seconds, b.seconds) } : { ...a, seconds: Math.min(a.seconds, b.seconds) }));
  const whole = child('whole');
  const blocks = child('256');
  if (Math.abs(whole.sum - blocks.sum) > 1e-6 * Math.abs(whole.sum)) throw new Error(`the sums differ: ${whole.sum} vs ${blocks.sum}`);
  let astropy: number | undefined;
  try {
    astropy = Number(execFileSync('/usr/bin/python3', ['-c', `import time; from astropy.io import fits; t=time.perf_counter(); d=fits.getdata('${file}').astype('float64'); s=d.sum(); print(time.perf_counter()-t)`], { encoding: 'utf8' }).trim());
  } catch {
    astropy = undefined; // no astropy here
  }
  report('fits-blocks', {
    whole_mb: mb(whole.rss), blocks_mb: mb(blocks.rss), memory_ratio: whole.rss / blocks.rss, whole_s: whole.seconds, blocks_s: blocks.seconds,
    ...(astropy !== undefined ? { astropy_s: astropy, speed_vs_astropy: astropy / whole.seconds } : {}),
  }, `256 MiB image, peak RSS above the process's own before reading: whole ${mb(whole.rss).toFixed(0)} MB in ${whole.seconds.toFixed(2)} s; ` +
    `blocks of 256 rows ${mb(blocks.rss).toFixed(0)} MB in ${blocks.seconds.toFixed(2)} s (${(whole.rss / blocks.rss).toFixed(1)}× less)` +
    (astropy !== undefined ? `; astropy getdata + sum ${astropy.toFixed(2)} s` : ''));
} finally {
  cleanup(dir);
}

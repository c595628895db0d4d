// 0. Start-up as a user feels it: `quiver --help`, and `quiver run` of a workflow reading 10
// one-row CSV files (derive → Parquet), each as a fresh process through the bin (package.json
// `bin`), wall time from spawn to exit. Median of RUNS runs (default 7) after one warm-up (disk
// cache). Also `node -e ''`, measured in the same rounds: the floor no Node CLI can go below.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { benchDir, cleanup, report } from './common.ts';

const root = resolve(import.meta.dirname, '../..');
const bin = join(root, 'src/cli/quiver.mjs');
const runs = Number(process.env.RUNS ?? 7);
const work = benchDir();
mkdirSync(join(work, 'in'));
for (let i = 0; i < 10; i++) writeFileSync(join(work, 'in', `part-${i}.csv`), `id,x\n${i},${i + 0.5}\n`);
writeFileSync(join(work, 'wf.yaml'), [
  'name: ten-csv',
  'stages:',
  '  - { id: in, use: source.csv, with: { path: "in/*.csv" } }',
  '  - { id: derive, use: table.derive, from: in, with: { columns: { y: "x * 2 + 1" } } }',
  '  - { id: out, use: sink.parquet, from: derive, with: { path: out.parquet } }',
  '',
].join('\n'));

const timed = (args: string[]): number => {
  const started = performance.now();
  const result = spawnSync(process.execPath, args, { cwd: work, encoding: 'utf8' });
  const seconds = (performance.now() - started) / 1000;
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return seconds;
};
const cases = {
  node: ['-e', ''],
  help: [bin, '--help'],
  run: [bin, 'run', 'wf.yaml', '--out', 'out', '--no-cache'],
  runCached: [bin, 'run', 'wf.yaml', '--out', 'out-cached'],
};
const times: Record<keyof typeof cases, number[]> = { node: [], help: [], run: [], runCached: [] };
for (const args of Object.values(cases)) timed(args); // warm-up: disk cache (and fills out-cached)
for (let i = 0; i < runs; i++) {
  for (const [name, args] of Object.entries(cases)) times[name as keyof typeof cases].push(timed(args));
}
cleanup(work);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])) as Record<keyof typeof cases, number>;
report('startup', { runs, nodeSeconds: m.node, helpSeconds: m.help, runSeconds: m.run, cachedRunSeconds: m.runCached },
  `start-up, median of ${runs}: node -e '' ${m.node.toFixed(3)} s; quiver --help ${m.help.toFixed(3)} s (goal ≤ 0.3 s); ` +
  `quiver run, 10 one-row CSV files → derive → Parquet, --no-cache ${m.run.toFixed(3)} s (goal ≤ 1.2 s), cached rerun ${m.runCached.toFixed(3)} s`);

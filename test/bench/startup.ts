// 0. Start-up as a user feels it: `quiver --help`, and `quiver run` of a workflow reading 10
// one-row CSV files (derive → Parquet), each as a fresh process through the bin (package.json
// `bin`), wall time from spawn to exit. Median of RUNS runs (default 7) after one warm-up (disk
// cache). Also `node -e ''`, measured in the same rounds: the floor no Node CLI can go below. Each
// also as CPU seconds (user + system, the child's and its threads'), which a busy machine moves less.
// The bin runs dist/ when `npm run build` compiled it from these sources, the sources otherwise:
// `source` says which ran.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { sourceStamp } from '../../src/cli/build-stamp.mjs';
import { join, resolve } from 'node:path';
import { benchDir, cleanup, report } from './common.ts';

const root = resolve(import.meta.dirname, '../..');
const bin = process.env.QUIVER_BENCH_BIN ?? join(root, 'src/cli/quiver.mjs'); // another checkout's, to compare
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

/** CPU seconds of this process's waited-for children (Linux: /proc/self/stat cutime + cstime). */
const childCpu = (): number => {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
};
const timed = (args: string[]): { wall: number; cpu: number } => {
  const cpu = childCpu();
  const started = performance.now();
  const result = spawnSync(process.execPath, args, { cwd: work, encoding: 'utf8' });
  const wall = (performance.now() - started) / 1000;
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return { wall, cpu: childCpu() - cpu };
};
const stampFile = join(root, 'dist/build-stamp.json');
const source = process.env.QUIVER_BENCH_BIN ? process.env.QUIVER_BENCH_BIN : existsSync(stampFile) && JSON.parse(readFileSync(stampFile, 'utf8')) === sourceStamp(root) ? 'dist' : 'tsx';
const cases = {
  node: ['-e', ''],
  help: [bin, '--help'],
  run: [bin, 'run', 'wf.yaml', '--out', 'out', '--no-cache'],
  runCached: [bin, 'run', 'wf.yaml', '--out', 'out-cached'],
};
const times: Record<keyof typeof cases, { wall: number; cpu: number }[]> = { node: [], help: [], run: [], runCached: [] };
for (const args of Object.values(cases)) timed(args); // warm-up: disk cache (and fills out-cached)
for (let i = 0; i < runs; i++) {
  for (const [name, args] of Object.entries(cases)) times[name as keyof typeof cases].push(timed(args));
}
cleanup(work);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const wall = (k: keyof typeof cases) => median(times[k].map((t) => t.wall));
const cpu = (k: keyof typeof cases) => median(times[k].map((t) => t.cpu));
const both = (k: keyof typeof cases) => `${wall(k).toFixed(3)} s (CPU ${cpu(k).toFixed(2)} s)`;
report('startup', {
  runs, source, nodeSeconds: wall('node'), helpSeconds: wall('help'), runSeconds: wall('run'), cachedRunSeconds: wall('runCached'),
  helpCpuSeconds: cpu('help'), runCpuSeconds: cpu('run'), cachedRunCpuSeconds: cpu('runCached'),
}, `start-up (${source}), median of ${runs}: node -e '' ${both('node')}; quiver --help ${both('help')} (goal ≤ 0.3 s); ` +
  `quiver run, 10 one-row CSV files → derive → Parquet, --no-cache ${both('run')} (goal ≤ 1.2 s), cached rerun ${both('runCached')}`);

// `npm run bench`: every benchmark in its own process, one after another, then the figures.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const benches = ['startup', 'task-overhead', 'file-partitions', 'pass-through', 'parquet-pass-through', 'memory', 'scaling', 'cache', 'cfar', 'fits-blocks', 'distributed'];
const only = process.argv.slice(2);
const figures: Record<string, unknown>[] = [];
for (const name of benches.filter((b) => only.length === 0 || only.includes(b))) {
  console.log(`\n== ${name}`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, `${name}.ts`)], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  for (const line of run.stdout.split('\n')) {
    if (line.startsWith('BENCH ')) figures.push(JSON.parse(line.slice(6)));
    else if (line) console.log(line);
  }
  if (run.status !== 0) {
    console.error(`${name} failed (exit ${run.status})`);
    process.exitCode = 1;
  }
}
console.log(`\n${JSON.stringify({ date: new Date().toISOString(), node: process.version, figures }, null, 2)}`);

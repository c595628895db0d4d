// Helpers shared by the cache suites: output snapshots by sha256, cache entry counts, the CLI.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { RunSummary } from '../../src/observe/summary.ts';
import { PackIndex } from '../../src/cache/stores/pack-file.ts';
import type { Manifest } from '../../src/provenance/manifest.ts';
import { repoRoot } from '../helpers.ts';

export const cacheStages = join(repoRoot, 'test', 'cache', 'stages.ts');
export const quiverBin = join(repoRoot, 'src', 'cli', 'quiver.mjs');

/**
 * Puts a `stages.ts` in `dir` that re-exports the cache test stages (workflows may only use stage
 * files inside their own folder), with the package.json that makes it an ES module there.
 */
export function localStages(dir: string, extra = ''): string {
  writeText(join(dir, 'package.json'), '{ "type": "module" }\n');
  return writeText(join(dir, 'stages.ts'), `export { burn, double, hang, jitter, picky } from ${JSON.stringify(cacheStages)};\n${extra}`);
}

export const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Every file under `dir`, recursively, as paths relative to it (sorted). */
export function filesUnder(dir: string, options: { withQuiver?: boolean } = {}): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)))
    .filter((p) => options.withQuiver || !p.split('/').includes('.quiver'))
    .sort();
}

/** sha256 of every file in OUT outside .quiver/: what the sinks wrote. */
export function outputHashes(out: string): Record<string, string> {
  return Object.fromEntries(filesUnder(out).map((p) => [p, sha256(join(out, p))]));
}

/** The keys of the complete task records in the cache (an entry a crash cut short is not one), as a new process reads them. */
export function cacheRecords(out: string): Set<string> {
  const packs = new PackIndex(join(out, '.quiver', 'cache', 'packs'));
  packs.refresh();
  return new Set([...packs.list()].filter((e) => e.kind === 'task').map((e) => e.key));
}

export const readManifestFile = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Manifest;

/** Per stage id: [tasks, cached]. */
export const taskCounts = (summary: RunSummary) =>
  Object.fromEntries(summary.stages.map((s) => [s.id, [s.tasks, s.cached]]));

export function writeText(path: string, text: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return path;
}

/** A small CSV with `id` (int) and `x` (float) columns; `salt` changes the values. */
export function csvFile(path: string, first: number, rows: number, salt = 0): string {
  const lines = ['id,x'];
  for (let i = 0; i < rows; i++) lines.push(`${first + i},${((first + i) * 0.37 + salt) % 11 + 0.25}`);
  return writeText(path, lines.join('\n') + '\n');
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function quiver(args: string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [quiverBin, ...args], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The CLI run without blocking this process; `user`: as that uid and gid (the caller being root). */
export function quiverAsync(args: string[], user?: number): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [quiverBin, ...args], { cwd: repoRoot, uid: user, gid: user });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * CSV files → the `burn` stage → a per-partition aggregate; a CSV file per partition (`parts/`) and
 * one file of the per-partition sums. Params `rounds` (of burn) and `col` (the column summed).
 */
export const burnedWorkflow = (o: { name: string; sums: string; extra?: string }) => `name: ${o.name}
params: { rounds: 5, col: burned }
stages:
  - id: src
    use: source.csv
    with: { path: "data/*.csv" }
  - id: burn
    use: ./stages.ts#burn
    from: src
    with: { rounds: "\${params.rounds}" }
  - id: per
    use: table.aggregate
    from: burn
    with: { by: [], aggregates: { n: "count(*)", s: "sum(\${params.col})" }, scope: partition }
  - id: parts
    use: sink.csv
    from: burn
    with: { path: parts/ }
  - id: sums
    use: ${o.sums.endsWith('.csv') ? 'sink.csv' : 'sink.parquet'}
    from: per
    with: { path: ${o.sums} }
${o.extra ?? ''}`;

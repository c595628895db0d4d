// `quiver run` when the output folder fails it: full (a small tmpfs), read-only (a read-only tmpfs,
// or a read-only bind mount put over it mid-run), not writable (EACCES), or deleted mid-run. Each
// ends the process with exit 1 and one line naming the cause and the path; the lock and the
// temporary files do not outlive the run where the folder can still be written.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { OutputFile } from '../../src/io/output-file.ts';
import { quiverAsync } from '../cache/util.ts';
import { repoRoot, scratchDir } from '../helpers.ts';

const root = scratchDir('quiver-out-failures-');
chmodSync(root, 0o755); // the EACCES case runs as another user, who must read the workflow

/** Can another user reach and read `path` (every folder above it searchable by others)? The EACCES case runs quiver as one. */
function othersCanRead(path: string): boolean {
  for (let dir = path; ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o005) !== 0o005) return false;
    if (dirname(dir) === dir) return true;
  }
}
const mounts: string[] = [];
afterAll(() => {
  for (const dir of mounts.reverse()) spawnSync('umount', ['-l', dir]);
});
const mount = (dir: string, ...args: string[]) => {
  mkdirSync(dir, { recursive: true });
  const result = spawnSync('mount', [...args, dir], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`mount ${args.join(' ')} ${dir}: ${result.stderr}`);
  mounts.push(dir);
};
// Mounting needs root (CAP_SYS_ADMIN); elsewhere these cases cannot be made for real.
const canMount = process.getuid?.() === 0 && spawnSync('mount', ['--version']).status === 0;

const quiver = quiverAsync;

const flows = join(root, 'flows');
mkdirSync(flows);
writeFileSync(join(flows, 'package.json'), '{ "type": "module" }\n');
writeFileSync(join(flows, 'stages.ts'), `export { gate } from ${JSON.stringify(join(repoRoot, 'test/fixtures/gate.ts'))};\n`);
const generated = (name: string, partitions: number, rows: number, gate?: { started: string; go: string }) => {
  const file = join(flows, `${name}.yaml`);
  writeFileSync(file, `name: ${name}
stages:
  - { id: gen, use: source.generate, with: { partitions: ${partitions}, rows: ${rows}, columns: { id: int64, x: float64 } } }
${gate ? `  - { id: held, use: ./stages.ts#gate, from: gen, with: { started: "${gate.started}", go: "${gate.go}" } }\n` : ''}\
  - { id: out, use: sink.csv, from: ${gate ? 'held' : 'gen'}, with: { path: ${name}.csv } }
`);
  return file;
};
const small = generated('small', 1, 10);

/** Every file under `dir` whose name says it is temporary, and the lock. */
const leftovers = (dir: string) => (existsSync(dir) ? readdirSync(dir, { recursive: true, encoding: 'utf8' }) : [])
  .filter((p) => p.endsWith('.tmp') || basename(p) === 'lock');
/** The text, which must be one line. */
const oneLine = (text: string) => {
  expect(text.split('\n')).toHaveLength(2);
  return text;
};
const until = async (ready: () => boolean) => {
  while (!ready()) await new Promise((r) => setTimeout(r, 50));
};

describe.skipIf(!canMount)('the output folder fails the run', () => {
  test('a full disk: ENOSPC and the file, no lock or temporary left, and the record written in the room that frees', async () => {
    const full = join(root, 'full');
    mount(full, '-t', 'tmpfs', '-o', 'size=2m', 'tmpfs');
    const out = join(full, 'out');
    const run = await quiver(['run', generated('big', 4, 200_000), '--out', out, '--workers', '2']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^quiver run \\S+big\\.yaml: stage '\\w+' on partition generated-\\d+: writing ${out}/\\S+: ENOSPC: no space left on device, write\\n$`));
    expect(leftovers(full)).toEqual([]);
    const [runId] = readdirSync(join(out, '.quiver', 'runs'));
    const record = JSON.parse(readFileSync(join(out, '.quiver', 'runs', runId, 'manifest.json'), 'utf8'));
    expect(record.status).toBe('failed');
    expect(record.error).toContain('ENOSPC');
  });

  test('an output file whose disk fills with writes still queued fails once, naming ENOSPC and the file, and leaves nothing', async () => {
    const full = join(root, 'full-file');
    mount(full, '-t', 'tmpfs', '-o', 'size=2m', 'tmpfs');
    const path = join(full, 'x.bin');
    const file = new OutputFile(path);
    // Handed over at once: the writer thread has later blocks queued when an earlier one fails.
    const writes = Array.from({ length: 4 }, () => file.write(new Uint8Array(1 << 20)));
    const failure = `writing ${path}: ENOSPC: no space left on device, write`;
    await expect(Promise.all(writes)).rejects.toThrow(failure);
    await expect(file.finish()).rejects.toThrow(failure);
    expect(readdirSync(full)).toEqual([]);
  });

  test('a read-only folder, or one to be made in it: EROFS and the folder, not ENOENT', async () => {
    const readOnly = join(root, 'read-only');
    mount(readOnly, '-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs');
    expect(await quiver(['run', small, '--out', readOnly])).toEqual({
      code: 1, stdout: '', stderr: `quiver run: EROFS: read-only file system, mkdir '${readOnly}/.quiver'\n`,
    });
    expect(await quiver(['run', small, '--out', join(readOnly, 'a', 'b')])).toEqual({
      code: 1, stdout: '', stderr: `quiver run: EROFS: read-only file system, mkdir '${readOnly}/a'\n`,
    });
  });

  test('a folder made read-only mid-run: EROFS and the file; once writable again, the next run takes over the lock and clears the temporaries', async () => {
    const out = join(root, 'frozen');
    const gate = { started: join(root, 'frozen-started'), go: join(root, 'frozen-go') };
    const running = quiver(['run', generated('frozen', 2, 200_000, gate), '--out', out, '--workers', '1']);
    // Partition 0 is in the sink's temporary file; partition 1 waits at the gate.
    await until(() => existsSync(gate.started) && leftovers(out).some((p) => p.startsWith('.frozen.csv.')));
    mount(out, '--bind', out);
    spawnSync('mount', ['-o', 'remount,bind,ro', out]);
    writeFileSync(gate.go, '');
    const run = await running;
    expect(run.code).toBe(1);
    expect(oneLine(run.stderr)).toMatch(/^quiver run \S+frozen\.yaml: .*EROFS: read-only file system/);
    expect(run.stderr).toContain(`${out}/`);
    spawnSync('umount', [out]);
    mounts.pop();
    expect(leftovers(out)).toContain(join('.quiver', 'lock'));
    const next = await quiver(['run', small, '--out', out]);
    expect(next.code, next.stderr).toBe(0);
    expect(leftovers(out)).toEqual([]);
  });
});

describe('the output folder fails the run, without mounts', () => {
  test.skipIf(process.getuid?.() !== 0 || !othersCanRead(repoRoot))('a folder the user may not write: EACCES and the folder', async () => {
    const denied = join(root, 'denied');
    mkdirSync(denied, { mode: 0o755 });
    expect(await quiver(['run', small, '--out', denied], 65534)).toEqual({
      code: 1, stdout: '', stderr: `quiver run: EACCES: permission denied, mkdir '${denied}/.quiver'\n`,
    });
  });

  test('a folder deleted mid-run: ENOENT and the file, no lock or temporary left, the record written', async () => {
    const out = join(root, 'deleted');
    const gate = { started: join(root, 'deleted-started'), go: join(root, 'deleted-go') };
    const running = quiver(['run', generated('deleted', 2, 200_000, gate), '--out', out, '--workers', '1']);
    await until(() => existsSync(gate.started) && leftovers(out).some((p) => p.startsWith('.deleted.csv.')));
    rmSync(out, { recursive: true });
    writeFileSync(gate.go, '');
    const run = await running;
    expect(run.code).toBe(1);
    expect(oneLine(run.stderr)).toMatch(/^quiver run \S+deleted\.yaml: .*ENOENT: no such file or directory/);
    expect(run.stderr).toContain(`${out}/`);
    expect(leftovers(out)).toEqual([]);
    const [runId] = readdirSync(join(out, '.quiver', 'runs'));
    expect(JSON.parse(readFileSync(join(out, '.quiver', 'runs', runId, 'manifest.json'), 'utf8')).status).toBe('failed');
  });
});

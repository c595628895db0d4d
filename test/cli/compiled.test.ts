// The bin runs the JavaScript `npm run build` compiled into dist/ only when dist/ was built from
// the sources as they are (dist/build-stamp.json), the TypeScript sources through tsx otherwise.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { sourceStamp } from '../../src/cli/build-stamp.mjs';
import { repoRoot, scratchDir } from '../helpers.ts';

const node = (args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) => {
  const result = spawnSync(process.execPath, args, { cwd: options.cwd ?? repoRoot, encoding: 'utf8', env: { ...process.env, ...options.env } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};

describe('the bin chooses compiled or source code', () => {
  // A package of its own: the real bin, a "compiled" and a "source" main that say which they are.
  const fakePackage = () => {
    const root = scratchDir('quiver-bin-');
    for (const dir of ['src/cli', 'connectors', 'workers', 'dist/src/cli']) mkdirSync(join(root, dir), { recursive: true });
    for (const file of ['quiver.mjs', 'build-stamp.mjs']) copyFileSync(join(repoRoot, 'src/cli', file), join(root, 'src/cli', file));
    symlinkSync(join(repoRoot, 'node_modules'), join(root, 'node_modules'));
    for (const file of ['package.json', 'tsconfig.json', 'tsconfig.build.json']) writeFileSync(join(root, file), file === 'package.json' ? '{"type":"module"}' : '{}');
    writeFileSync(join(root, 'src/cli/main.ts'), "export async function main(argv: string[]): Promise<number> { console.log('source', argv.join(' ')); return 0; }\n");
    writeFileSync(join(root, 'dist/src/cli/main.js'), "export async function main(argv) { console.log('compiled', argv.join(' ')); return 0; }\n");
    writeFileSync(join(root, 'dist/build-stamp.json'), JSON.stringify(sourceStamp(root)));
    return root;
  };

  test('an up-to-date build runs; an edited, added or removed source file makes it stale, and the sources run', () => {
    const root = fakePackage();
    const bin = join(root, 'src/cli/quiver.mjs');
    expect(node([bin, 'a', 'b'])).toMatchObject({ code: 0, stdout: 'compiled a b\n', stderr: '' });
    expect(node([bin, 'a'], { env: { QUIVER_FROM_SOURCE: '1' } })).toMatchObject({ code: 0, stdout: 'source a\n' });
    // Same size, other mtime: an edit that a size check alone would miss.
    const main = join(root, 'src/cli/main.ts');
    utimesSync(main, new Date(), new Date(Date.now() + 5_000));
    expect(node([bin, 'a'])).toMatchObject({ code: 0, stdout: 'source a\n', stderr: '' }); // no notice without a terminal
    writeFileSync(join(root, 'dist/build-stamp.json'), JSON.stringify(sourceStamp(root)));
    expect(node([bin, 'a']).stdout).toBe('compiled a\n');
    writeFileSync(join(root, 'connectors/new.ts'), 'export {};\n');
    expect(node([bin, 'a']).stdout).toBe('source a\n');
    writeFileSync(join(root, 'dist/build-stamp.json'), JSON.stringify(sourceStamp(root)));
    expect(node([bin, 'a']).stdout).toBe('compiled a\n');
    writeFileSync(join(root, 'tsconfig.build.json'), '{"compilerOptions":{}}');
    expect(node([bin, 'a']).stdout).toBe('source a\n');
  });

  // The repository's own build, where it is up to date (CI: `npm ci` built it, and nothing edits
  // the sources after); elsewhere there is no compiled code to compare.
  const stamp = join(repoRoot, 'dist/build-stamp.json');
  const built = existsSync(stamp) && JSON.parse(readFileSync(stamp, 'utf8')) === sourceStamp(repoRoot);
  test.skipIf(!built)('compiled and source CLI say the same: --help, an unknown command, a run with a TypeScript stage file in the workers', () => {
    const bin = join(repoRoot, 'src/cli/quiver.mjs');
    const source = { QUIVER_FROM_SOURCE: '1' };
    for (const args of [['--help'], ['frobnicate'], ['validate', 'test/fixtures/generated.yaml']]) {
      const compiled = node([bin, ...args]);
      expect(compiled).toEqual(node([bin, ...args], { env: source }));
    }
    const runIn = (env?: Record<string, string>) => {
      const result = node([bin, 'run', 'test/fixtures/generated.yaml', '--out', scratchDir(), '--no-cache', '--json'], { env });
      expect(result.code, result.stderr).toBe(0);
      const summary = JSON.parse(result.stdout);
      return summary.stages.map((s: { id: string; rowsOut: number }) => [s.id, s.rowsOut]);
    };
    expect(runIn()).toEqual(runIn(source));
  });
});

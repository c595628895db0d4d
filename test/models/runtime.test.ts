// The model runtime: which backend it picks, that QUIVER_BACKEND forces one, and that the Conv2D
// gradient quiver adds for the wasm backend equals TensorFlow.js's own (on the cpu backend).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { repoRoot } from '../helpers.ts';

/** Runs a snippet in a fresh Node process (a runtime is loaded once per thread) and returns its stdout. */
function node(code: string, env: Record<string, string> = {}) {
  return execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: repoRoot, env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}
const runtime = `import { modelRuntime } from ${JSON.stringify(join(repoRoot, 'src/models/runtime.ts'))};`;

describe('model runtime', () => {
  test('without the native packages (they cannot install here) it runs on wasm; QUIVER_BACKEND forces cpu', () => {
    expect(node(`${runtime} const r = await modelRuntime(); console.log(r.backend, r.tf.getBackend())`)).toBe('wasm wasm');
    expect(node(`${runtime} const r = await modelRuntime(); console.log(r.backend, r.tf.getBackend())`, { QUIVER_BACKEND: 'cpu' })).toBe('cpu cpu');
  });

  test('a backend that is not there is an error naming it, not a silent fallback', () => {
    expect(() => node(`${runtime} await modelRuntime()`, { QUIVER_BACKEND: 'node' })).toThrow(/no model backend could start \(node: /);
    expect(() => node(`${runtime} await modelRuntime()`, { QUIVER_BACKEND: 'tpu' })).toThrow(/QUIVER_BACKEND=tpu is not a backend/);
  });

  test('the wasm Conv2D gradient equals the cpu backend\'s built-in gradient (same/valid, stride 1 and 2)', () => {
    const gradients = (backend: string) => JSON.parse(node(`${runtime}
      const { tf } = await modelRuntime();
      const x = tf.randomNormal([2, 7, 9, 3], 0, 1, 'float32', 1);
      const f = tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 2);
      const out = [];
      for (const [pad, s] of [['same', 1], ['valid', 1], ['same', 2], ['valid', 2]]) {
        const [gx, gf] = tf.grads((a, b) => tf.conv2d(a, b, s, pad).square().sum())([x, f]);
        out.push([...await gx.data()], [...await gf.data()]);
      }
      console.log(JSON.stringify(out));`, { QUIVER_BACKEND: backend })) as number[][];
    const wasm = gradients('wasm');
    const cpu = gradients('cpu');
    // One expect over every gradient value (about 2,000): those further apart than 1e-4 (relative).
    const apart = wasm.flatMap((g, i) => g.flatMap((v, j) => (Math.abs(v - cpu[i][j]) < 1e-4 * Math.max(1, Math.abs(cpu[i][j])) ? [] : [{ i, j, wasm: v, cpu: cpu[i][j] }])));
    expect(apart).toEqual([]);
  });
});

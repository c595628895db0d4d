// The conv3d layer on the wasm backend: the convolution of an impulse is the mirrored kernel (a
// closed form: TensorFlow's convolution is a cross-correlation), and forward values and gradients
// (quiver's, wasm-conv3d-gradient.ts: wasm's own are wrong) equal those of TensorFlow.js's
// plain-JavaScript cpu backend, op by op and through a model built from a layer spec (one training
// step changes the weights alike).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { repoRoot } from '../helpers.ts';

/** Runs a snippet in a fresh Node process (a runtime is loaded once per thread) and returns its stdout parsed. */
function run(code: string, backend: string): number[][] {
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `
    import { modelRuntime } from ${JSON.stringify(join(repoRoot, 'src/models/runtime.ts'))};
    import { buildModel } from ${JSON.stringify(join(repoRoot, 'src/models/spec.ts'))};
    const { tf, backend } = await modelRuntime();
    if (backend !== ${JSON.stringify(backend)}) throw new Error('ran on ' + backend);
    ${code}`], { cwd: repoRoot, env: { ...process.env, QUIVER_BACKEND: backend }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(out.trim()) as number[][];
}

/** Entries of `a` further than 1e-4 (relative) from `b`'s. */
const apart = (a: number[][], b: number[][]) => a.flatMap((g, i) => g.flatMap((v, j) => (Math.abs(v - b[i][j]) < 1e-4 * Math.max(1, Math.abs(b[i][j])) ? [] : [{ i, j, a: v, b: b[i][j] }])));

describe('3-D layers on the wasm backend', () => {
  test('an impulse convolved with a 3 × 3 × 3 kernel gives the kernel mirrored', () => {
    const [[got], kernel] = run(`
      const k = tf.randomNormal([3, 3, 3, 1, 1], 0, 1, 'float32', 3);
      const x = tf.zeros([1, 5, 5, 5, 1]).bufferSync(); x.set(1, 0, 2, 2, 2, 0);
      const y = tf.conv3d(x.toTensor(), k, 1, 'same').slice([0, 1, 1, 1, 0], [1, 3, 3, 3, 1]);
      console.log(JSON.stringify([[[...await y.data()]], [...await k.data()]]));`, 'wasm') as unknown as [number[][], number[]];
    const mirrored = [...kernel].reverse();
    expect(got.map((v, i) => Math.abs(v - mirrored[i]))).toEqual(got.map(() => expect.closeTo(0, 6)));
  });

  test('conv3d values and gradients equal the cpu backend\'s (same/valid, stride 1 and 2)', () => {
    const code = `
      const x = tf.randomNormal([2, 6, 7, 5, 2], 0, 1, 'float32', 1);
      const f = tf.randomNormal([3, 3, 3, 2, 4], 0, 1, 'float32', 2);
      const out = [];
      for (const [pad, s] of [['same', 1], ['valid', 1], ['same', 2], ['valid', 2]]) {
        const conv = (a, b) => tf.conv3d(a, b, s, pad);
        const [gx, gf] = tf.grads((a, b) => conv(a, b).square().sum())([x, f]);
        out.push([...await conv(x, f).data()], [...await gx.data()], [...await gf.data()]);
      }
      console.log(JSON.stringify(out));`;
    const wasm = run(code, 'wasm');
    const cpu = run(code, 'cpu');
    expect(wasm.map((g) => g.length)).toEqual(cpu.map((g) => g.length));
    expect(apart(wasm, cpu)).toEqual([]);
  });

  test('a conv3d model (stride 2, then 1) from a layer spec predicts and trains one step as on the cpu backend (linear activation included)', () => {
    const code = `
      const layers = [{ type: 'conv3d', filters: 3, kernel: 3, stride: 2, padding: 'same', activation: 'linear' },
        { type: 'conv3d', filters: 4, kernel: 3, stride: 1, padding: 'valid', activation: 'relu' }, { type: 'flatten' }];
      const model = buildModel(tf, layers, [8, 8, 8], 'binary-classification', 7);
      const x = tf.randomNormal([4, 8, 8, 8], 0, 1, 'float32', 5);
      const y = tf.tensor([[0], [1], [1], [0]]);
      const before = [...await model.predict(x).data()];
      model.compile({ optimizer: tf.train.sgd(0.1), loss: 'binaryCrossentropy' });
      await model.trainOnBatch(x, y);
      const weights = await Promise.all(model.getWeights().map(async (w) => [...await w.data()]));
      console.log(JSON.stringify([before, [...await model.predict(x).data()], ...weights]));`;
    const wasm = run(code, 'wasm');
    const cpu = run(code, 'cpu');
    expect(wasm.map((g) => g.length)).toEqual([4, 4, 81, 3, 324, 4, 32, 1]);
    expect(apart(wasm, cpu)).toEqual([]);
    expect(apart([wasm[0]], [wasm[1]])).not.toEqual([]); // the step changed the predictions
  });
});

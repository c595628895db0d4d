// 2-D max pooling's gradient on the wasm backend (quiver's, wasm-maxpool-gradient.ts: wasm's own
// MaxPoolGrad kernel loses the gradient of windows whose values are all ≤ 0 and gives ties to the
// last element). Checked against a direct sum written here — each window's output gradient goes to
// its largest input, the first in row-major order among equals, padding never taking it (as the cpu
// backend does) — and against TensorFlow.js's plain-JavaScript cpu backend, op by op and through a
// U-Net built from a layer spec (one training step changes the weights alike).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { repoRoot } from '../helpers.ts';

/** Runs a snippet in a fresh Node process (a runtime is loaded once per thread) and returns its stdout parsed. */
function run(code: string, backend: string): unknown {
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `
    import { modelRuntime } from ${JSON.stringify(join(repoRoot, 'src/models/runtime.ts'))};
    import { buildModel } from ${JSON.stringify(join(repoRoot, 'src/models/spec.ts'))};
    const { tf, backend } = await modelRuntime();
    if (backend !== ${JSON.stringify(backend)}) throw new Error('ran on ' + backend);
    ${code}`], { cwd: repoRoot, env: { ...process.env, QUIVER_BACKEND: backend }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

/** Entries of `a` further than 1e-5 (relative) from `b`'s. */
const apart = (a: number[][], b: number[][]) => a.flatMap((g, i) => g.flatMap((v, j) => (Math.abs(v - b[i][j]) <= 1e-5 * Math.max(1, Math.abs(b[i][j])) ? [] : [{ i, j, a: v, b: b[i][j] }])));

interface Pooling { name: string; shape: [number, number, number, number]; size: number; stride: number; pad: 'same' | 'valid' }

/** The input gradient of sum(w · maxPool(x)), summed window by window. */
function directGradient(x: number[], w: number[], { shape: [batch, h, wd, ch], size, stride, pad }: Pooling): number[] {
  const out = (n: number) => (pad === 'valid' ? Math.floor((n - size) / stride) + 1 : Math.ceil(n / stride));
  const before = (n: number) => (pad === 'valid' ? 0 : Math.floor(Math.max((out(n) - 1) * stride + size - n, 0) / 2));
  const [oh, ow, top, left] = [out(h), out(wd), before(h), before(wd)];
  const at = (b: number, r: number, c: number, k: number) => ((b * h + r) * wd + c) * ch + k;
  const dx = new Array<number>(x.length).fill(0);
  for (let b = 0; b < batch; b++) for (let r = 0; r < oh; r++) for (let c = 0; c < ow; c++) for (let k = 0; k < ch; k++) {
    let best = -1;
    for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) {
      const [xr, xc] = [r * stride - top + i, c * stride - left + j];
      if (xr < 0 || xc < 0 || xr >= h || xc >= wd) continue;
      if (best < 0 || x[at(b, xr, xc, k)] > x[best]) best = at(b, xr, xc, k);
    }
    dx[best] += w[((b * oh + r) * ow + c) * ch + k];
  }
  return dx;
}

const poolings: Pooling[] = [
  { name: '2 × 2, stride 2, valid', shape: [3, 8, 10, 4], size: 2, stride: 2, pad: 'valid' },
  { name: '2 × 2, stride 2, valid, odd sides', shape: [2, 7, 9, 3], size: 2, stride: 2, pad: 'valid' },
  { name: '2 × 2, stride 2, same, odd sides', shape: [2, 7, 9, 3], size: 2, stride: 2, pad: 'same' },
  { name: '3 × 3, stride 1, same', shape: [2, 6, 7, 3], size: 3, stride: 1, pad: 'same' },
  { name: '3 × 3, stride 1, valid', shape: [2, 6, 7, 3], size: 3, stride: 1, pad: 'valid' },
  { name: '3 × 3, stride 2, same', shape: [2, 7, 8, 3], size: 3, stride: 2, pad: 'same' },
  { name: '3 × 3, stride 2, valid', shape: [2, 7, 8, 3], size: 3, stride: 2, pad: 'valid' },
];

// Inputs rounded to quarters in [−2, 2]: many windows hold ties, many hold only negative values or zeros.
const gradients = (backend: string) => run(`
  const out = [];
  for (const [i, p] of ${JSON.stringify(poolings)}.entries()) {
    const x = tf.randomUniform(p.shape, -2, 2, 'float32', 10 + i).mul(4).round().div(4);
    const y = tf.maxPool(x, p.size, p.stride, p.pad);
    const w = tf.randomNormal(y.shape, 0, 1, 'float32', 20 + i);
    const g = tf.grad((a) => tf.maxPool(a, p.size, p.stride, p.pad).mul(w).sum())(x);
    out.push([[...await x.data()], [...await w.data()], [...await y.data()], [...await g.data()]]);
  }
  console.log(JSON.stringify(out));`, backend) as number[][][];

describe('max pooling on the wasm backend', () => {
  const wasm = gradients('wasm');
  const cpu = gradients('cpu');

  test.each(poolings.map((p, i) => [p.name, i] as const))('%s: the gradient is the direct sum\'s, and the cpu backend\'s', (_, i) => {
    const [x, w, y, g] = wasm[i];
    expect(x).toEqual(cpu[i][0]); // the same inputs on both backends
    expect(y).toEqual(cpu[i][2]); // wasm's forward pass is right
    const direct = directGradient(x, w, poolings[i]);
    expect(apart([g], [direct])).toEqual([]);
    expect(apart([cpu[i][3]], [direct])).toEqual([]);
    // The inputs hold what wasm's own kernel gets wrong: ties and windows of values ≤ 0.
    expect(x.filter((v) => v <= 0).length).toBeGreaterThan(x.length / 3);
  });

  // One image a batch: the cpu backend's own ResizeNearestNeighborGrad (the U-Net's upsampling) is
  // wrong for batches of more than one image in TensorFlow.js 4.22 (it reads the output gradient at
  // the input's batch stride); wasm's is right.
  test('a U-Net from a layer spec predicts and trains one step as on the cpu backend', () => {
    const code = `
      const model = buildModel(tf, [{ type: 'unet', filters: 2, depth: 2 }], [16, 16], 'binary-classification', 3, { outputShape: [16, 16] });
      const x = tf.randomNormal([1, 16, 16], 0, 1, 'float32', 5);
      const y = tf.randomUniform([1, 16, 16], 0, 1, 'float32', 6).round();
      const before = [...await model.predict(x).data()];
      model.compile({ optimizer: tf.train.sgd(0.1), loss: 'binaryCrossentropy' });
      await model.trainOnBatch(x, y);
      const weights = await Promise.all(model.getWeights().map(async (w) => [...await w.data()]));
      console.log(JSON.stringify([before, [...await model.predict(x).data()], ...weights]));`;
    const unetWasm = run(code, 'wasm') as number[][];
    const unetCpu = run(code, 'cpu') as number[][];
    expect(unetWasm.map((g) => g.length)).toEqual(unetCpu.map((g) => g.length));
    expect(apart(unetWasm, unetCpu)).toEqual([]);
    expect(apart([unetWasm[0]], [unetWasm[1]])).not.toEqual([]); // the step changed the predictions
  });
});

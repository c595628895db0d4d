// tfjs-backend-wasm 4.22's MaxPoolGrad kernel is wrong (its MaxPool forward kernel is right): a
// window whose values are all ≤ 0 loses its gradient (only the first such window of a channel keeps
// it, at its first element), and tied maxima take the gradient at the last tied element, not the
// first (test/models/maxpool.test.ts, against the cpu backend and a direct sum). So MaxPool's
// gradient is rebuilt from ops that are right on wasm: each window tap (a strided slice of the
// input, padded with −∞ as 'same' pooling pads) is compared with the pooled output, the first tap
// in row-major order that equals it takes the window's output gradient (as the cpu backend breaks
// ties), and each tap's share goes back to the input positions it saw by zero-stuffing and padding.
// Registered only with wasm.
import type { Tensor, Tensor4D } from '@tensorflow/tfjs';
import type { Tfjs } from './runtime.ts';
import { padding } from './wasm-conv-gradient.ts';

/** `t` with `stride − 1` zeros between neighbours along axis `axis` (1 or 2) of a 4-D tensor. */
function zeroStuff(tf: Tfjs, t: Tensor4D, axis: 1 | 2, stride: number): Tensor4D {
  if (stride === 1) return t;
  const n = t.shape[axis];
  const zeros = Array.from({ length: stride - 1 }, () => tf.zerosLike(t));
  const shape = [...t.shape] as [number, number, number, number];
  shape[axis] = n * stride;
  const full = tf.stack([t, ...zeros], axis + 1).reshape(shape) as Tensor4D;
  const size = [...full.shape];
  size[axis] = (n - 1) * stride + 1;
  return full.slice([0, 0, 0, 0], size);
}

const pair = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);

/** The gradient of max pooling `x` (pooled: `y`) for the output gradient `dy`. */
export function maxPoolInputGradient(tf: Tfjs, dy: Tensor4D, x: Tensor4D, y: Tensor4D,
  filterSize: number | [number, number], strides: number | [number, number], pad: 'same' | 'valid'): Tensor4D {
  return tf.tidy(() => {
    const [kh, kw] = pair(filterSize);
    const [sh, sw] = pair(strides);
    const [batch, h, w, channels] = x.shape;
    const [top, bottom, oh] = padding(pad, h, kh, sh);
    const [left, right, ow] = padding(pad, w, kw, sw);
    const padded = tf.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]], -Infinity);
    const [ph, pw] = [padded.shape[1], padded.shape[2]];
    // 1 where no earlier tap of the window has taken the gradient yet.
    let free: Tensor = tf.onesLike(dy);
    let dx: Tensor = tf.zeros(padded.shape);
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const tap = tf.stridedSlice(padded, [0, i, j, 0], [batch, i + (oh - 1) * sh + 1, j + (ow - 1) * sw + 1, channels], [1, sh, sw, 1]);
        const hit = tf.equal(tap, y).cast('float32').mul(free);
        free = free.sub(hit);
        const share = zeroStuff(tf, zeroStuff(tf, hit.mul(dy) as Tensor4D, 1, sh), 2, sw);
        dx = dx.add(tf.pad(share, [[0, 0], [i, ph - i - share.shape[1]], [j, pw - j - share.shape[2]], [0, 0]]));
      }
    }
    return dx.slice([0, top, left, 0], [batch, h, w, channels]) as Tensor4D;
  });
}

export function registerWasmMaxPoolGradient(tf: Tfjs) {
  tf.registerGradient({
    kernelName: 'MaxPool',
    inputsToSave: ['x'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, y] = saved as [Tensor4D, Tensor4D];
      const { filterSize, strides, pad, dimRoundingMode } = attrs as { filterSize: number | [number, number]; strides: number | [number, number]; pad: unknown; dimRoundingMode?: string };
      if ((pad !== 'same' && pad !== 'valid') || dimRoundingMode) {
        throw new Error('on the wasm backend, max pooling trains only with same/valid padding');
      }
      return { x: () => maxPoolInputGradient(tf, dy as Tensor4D, x, y, filterSize, strides, pad) };
    },
  });
}

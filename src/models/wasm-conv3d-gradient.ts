// tfjs-backend-wasm 4.22 has Conv3D gradient kernels, but wrong ones: its Conv3DBackpropInputV2
// gives wrong input gradients at every stride and its Conv3DBackpropFilterV2 wrong filter
// gradients at stride 2 (against a direct sum and the cpu backend, test/models/conv3d.test.ts).
// Its Conv3D forward kernel is right, so Conv3D's gradient is rebuilt from it: the input gradient
// is the output gradient, zero-stuffed to undo the stride and padded, convolved with the filter
// mirrored and its channel axes swapped; the filter gradient at stride 1 is wasm's own kernel, at
// larger strides one matrix product per filter tap, of the strided input window that tap sees
// with the output gradient (slow on wasm: its 5-D strided slices are). Registered only with wasm.
import type { Tensor, Tensor5D } from '@tensorflow/tfjs';
import type { Tfjs } from './runtime.ts';
import { padding } from './wasm-conv-gradient.ts';

/** `t` with `stride − 1` zeros between neighbours along spatial axis `axis` (1, 2 or 3) of a 5-D tensor. */
function zeroStuff(tf: Tfjs, t: Tensor5D, axis: number, stride: number): Tensor5D {
  if (stride === 1) return t;
  const n = t.shape[axis];
  const zeros = Array.from({ length: stride - 1 }, () => tf.zerosLike(t));
  const interleaved = tf.stack([t, ...zeros], axis + 1);
  const shape = [...t.shape];
  shape[axis] = n * stride;
  const full = interleaved.reshape(shape) as Tensor5D;
  const begin = [0, 0, 0, 0, 0];
  const size = [...full.shape];
  size[axis] = (n - 1) * stride + 1;
  return full.slice(begin, size);
}

export function registerWasmConv3dGradient(tf: Tfjs) {
  tf.registerGradient({
    kernelName: 'Conv3D',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter] = saved as [Tensor5D, Tensor5D];
      const { strides, pad, dilations, dataFormat } = attrs as { strides: number[]; pad: string; dilations?: number[]; dataFormat?: string };
      if ((pad !== 'same' && pad !== 'valid') || (dilations ?? [1, 1, 1]).some((d) => d !== 1) || (dataFormat && dataFormat !== 'NDHWC')) {
        throw new Error('on the wasm backend, Conv3D trains only with same/valid padding, no dilation, channels last');
      }
      const stride = typeof strides === 'number' ? [strides, strides, strides] : strides;
      const kernel = filter.shape.slice(0, 3);
      const [ci, co] = filter.shape.slice(3);
      const grad = dy as Tensor5D;
      const sides = [0, 1, 2].map((a) => padding(pad, x.shape[a + 1], kernel[a], stride[a]));
      return {
        x: () => tf.tidy(() => {
          let stuffed = grad;
          for (let a = 0; a < 3; a++) stuffed = zeroStuff(tf, stuffed, a + 1, stride[a]);
          const widths = [0, 1, 2].map((a) => {
            const left = kernel[a] - 1 - sides[a][0];
            return [left, x.shape[a + 1] + kernel[a] - 1 - left - stuffed.shape[a + 1]] as [number, number];
          });
          const padded = tf.pad(stuffed, [[0, 0], ...widths, [0, 0]]);
          const mirrored = tf.reverse(filter, [0, 1, 2]).transpose([0, 1, 2, 4, 3]) as Tensor5D;
          return tf.conv3d(padded, mirrored, 1, 'valid');
        }),
        filter: () => tf.tidy(() => {
          // Stride 1: wasm's own kernel is right (and much faster than strided slices on wasm).
          if (stride.every((st) => st === 1)) return tf.engine().runKernel('Conv3DBackpropFilterV2', { x, dy: grad }, { strides: stride, pad, filterShape: filter.shape }) as Tensor;
          const padded = tf.pad(x, [[0, 0], ...sides.map(([before, after]) => [before, after] as [number, number]), [0, 0]]);
          const g = grad.reshape([-1, co]);
          const taps: Tensor[] = [];
          for (let p = 0; p < kernel[0]; p++) for (let q = 0; q < kernel[1]; q++) for (let r = 0; r < kernel[2]; r++) {
            const at = [p, q, r];
            const end = [0, 1, 2].map((a) => at[a] + (sides[a][2] - 1) * stride[a] + 1);
            const seen = tf.stridedSlice(padded, [0, p, q, r, 0], [x.shape[0], ...end, ci], [1, ...stride, 1]);
            taps.push(tf.matMul(seen.reshape([-1, ci]), g, true, false));
          }
          return tf.stack(taps).reshape([...kernel, ci, co]);
        }),
      };
    },
  });
}

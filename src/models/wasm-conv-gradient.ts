// tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel, so a Conv2D layer cannot train on it.
// This replaces Conv2D's gradient with one built from ops every backend has: the input gradient is
// a transposed convolution, the filter gradient one matrix product per filter tap, of the
// (strided) input window that tap sees with the output gradient. Registered only with wasm; it
// equals the built-in gradient to float precision (test/models/runtime.test.ts).
import type { Tensor, Tensor4D } from '@tensorflow/tfjs';
import type { Tfjs } from './runtime.ts';

/** Padding before, after, and the output size of one dimension (as TensorFlow defines 'same' and 'valid'). */
export function padding(pad: string, size: number, kernel: number, stride: number): [number, number, number] {
  if (pad === 'valid') return [0, 0, Math.floor((size - kernel) / stride) + 1];
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2), out];
}

export function registerWasmConvGradient(tf: Tfjs) {
  tf.registerGradient({
    kernelName: 'Conv2D',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter] = saved as [Tensor4D, Tensor4D];
      const { strides, pad, dilations, dataFormat } = attrs as { strides: number | [number, number]; pad: string; dilations?: number | [number, number]; dataFormat?: string };
      const dilation = typeof dilations === 'number' ? [dilations, dilations] : dilations ?? [1, 1];
      if (typeof pad !== 'string' || dilation[0] !== 1 || dilation[1] !== 1 || (dataFormat && dataFormat !== 'NHWC')) {
        throw new Error('on the wasm backend, Conv2D trains only with same/valid padding, no dilation, channels last');
      }
      const [sh, sw] = typeof strides === 'number' ? [strides, strides] : strides;
      const [fh, fw, ci, co] = filter.shape;
      const grad = dy as Tensor4D;
      return {
        x: () => tf.conv2dTranspose(grad, filter, x.shape, [sh, sw], pad as 'same' | 'valid'),
        filter: () => tf.tidy(() => {
          const [top, bottom, oh] = padding(pad, x.shape[1], fh, sh);
          const [left, right, ow] = padding(pad, x.shape[2], fw, sw);
          const padded = tf.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]]);
          const g = grad.reshape([-1, co]);
          const taps: Tensor[] = [];
          for (let i = 0; i < fh; i++) {
            for (let j = 0; j < fw; j++) {
              const seen = tf.stridedSlice(padded, [0, i, j, 0], [x.shape[0], i + (oh - 1) * sh + 1, j + (ow - 1) * sw + 1, ci], [1, sh, sw, 1]);
              taps.push(tf.matMul(seen.reshape([-1, ci]), g, true, false));
            }
          }
          return tf.stack(taps).reshape([fh, fw, ci, co]);
        }),
      };
    },
  });
}

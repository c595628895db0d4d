// The model runtime: one TensorFlow.js per thread, on the fastest backend present. Order:
// @tensorflow/tfjs-node-gpu when installed and a GPU is visible, @tensorflow/tfjs-node when
// installed, else the WebAssembly backend, else plain JavaScript (cpu). Both native packages are
// optionalDependencies: their install downloads libtensorflow, which fails where only the npm
// registry is reachable, and npm then leaves them out. QUIVER_BACKEND=node-gpu|node|wasm|cpu forces one.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type * as Tf from '@tensorflow/tfjs';
import { registerWasmConvGradient } from './wasm-conv-gradient.ts';
import { registerWasmConv3dGradient } from './wasm-conv3d-gradient.ts';
import { registerWasmMaxPoolGradient } from './wasm-maxpool-gradient.ts';

export type Tfjs = typeof Tf;
export const backendNames = ['node-gpu', 'node', 'wasm', 'cpu'] as const;
export type BackendName = (typeof backendNames)[number];

export interface Runtime {
  tf: Tfjs;
  backend: BackendName;
  /** TensorFlow.js's version, for model cards and run records. */
  version: string;
}

const require = createRequire(import.meta.url);
const installed = (name: string) => {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
};
const gpuVisible = () => existsSync('/dev/nvidiactl') || existsSync('/dev/nvidia0');

let loaded: Promise<Runtime> | undefined;

/** The thread's runtime, loaded on first use. */
export function modelRuntime(): Promise<Runtime> {
  loaded ??= load();
  return loaded;
}

/** The backends to try, in order: the forced one alone, or what is installed and usable here. */
function backendOrder(): BackendName[] {
  const forced = process.env.QUIVER_BACKEND;
  if (forced !== undefined && !(backendNames as readonly string[]).includes(forced)) {
    throw new Error(`QUIVER_BACKEND=${forced} is not a backend (one of ${backendNames.join(', ')})`);
  }
  return forced ? [forced as BackendName]
    : [...(installed('@tensorflow/tfjs-node-gpu') && gpuVisible() ? ['node-gpu' as const] : []),
      ...(installed('@tensorflow/tfjs-node') ? ['node' as const] : []), 'wasm', 'cpu'];
}

/** The backend model stages will run on, without loading it (for the run record). */
export const plannedBackend = (): BackendName => backendOrder()[0];

async function load(): Promise<Runtime> {
  const failures: string[] = [];
  for (const backend of backendOrder()) {
    try {
      return await start(backend);
    } catch (error) {
      failures.push(`${backend}: ${(error as Error).message}`);
    }
  }
  throw new Error(`no model backend could start (${failures.join('; ')})`);
}

async function start(backend: BackendName): Promise<Runtime> {
  if (backend === 'node-gpu' || backend === 'node') {
    const tf = (await import(backend === 'node' ? '@tensorflow/tfjs-node' : '@tensorflow/tfjs-node-gpu' as string)) as Tfjs;
    await tf.ready();
    return { tf, backend, version: tf.version.tfjs };
  }
  const tf = await import('@tensorflow/tfjs');
  if (backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`);
    registerWasmConvGradient(tf);
    registerWasmConv3dGradient(tf);
    registerWasmMaxPoolGradient(tf);
  }
  if (!(await tf.setBackend(backend))) throw new Error(`TensorFlow.js could not start its ${backend} backend`);
  await tf.ready();
  return { tf, backend, version: tf.version.tfjs };
}

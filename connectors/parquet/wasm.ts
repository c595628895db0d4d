// parquet-wasm for reading, guarded against its panics. A panic in the Rust code is a WebAssembly
// trap (RuntimeError: unreachable). In a synchronous call the caller gets it as an exception; in
// an async one (ParquetFile.fromFile, reading a stream) it is thrown from a microtask that
// wasm-bindgen-futures queued: an uncaught exception, which ends the process (or the worker
// thread), while the call's promise never settles. One corrupt file could so crash or hang a run.
// And after a trap the instance's memory may be inconsistent (a lock held, the allocator mid-way).
//
// So source.parquet loads its own instance of parquet-wasm, evaluated with a `queueMicrotask` of
// its own that catches what the queued tasks throw: a trap fails every call in flight on that
// instance with a ParquetPanic, the instance is dropped, and the next call loads a fresh one
// (~25-150 ms). sink.parquet keeps the plain import: it only ever sees data it built itself.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { compileFunction } from 'node:vm';
import type * as ParquetWasm from 'parquet-wasm';

export type Pw = typeof ParquetWasm;

/** parquet-wasm panicked (or threw from inside): the instance it happened in is no longer used. */
export class ParquetPanic extends Error {}

const require = createRequire(import.meta.url);
let loader: ((...args: unknown[]) => void) | undefined;
let entry = '';

/** Above this much linear memory (it never shrinks), an instance is replaced after its calls end. */
const MAX_MEMORY = 1024 * 1024 * 1024;

export class WasmInstance {
  readonly pw: Pw;
  /** Set once a trap happened: the instance must not be used again. */
  panic?: ParquetPanic;
  private readonly inFlight = new Set<(error: Error) => void>();

  constructor() {
    if (!loader) {
      // The package's CommonJS Node entry, evaluated as Node would, with queueMicrotask in scope.
      entry = require.resolve('parquet-wasm');
      loader = compileFunction(readFileSync(entry, 'utf8'), ['exports', 'require', 'module', '__filename', '__dirname', 'queueMicrotask'], { filename: entry }) as never;
    }
    const module = { exports: {} as Pw };
    const queue = (task: () => void) => queueMicrotask(() => {
      try {
        task();
      } catch (error) {
        this.trapped(error);
      }
    });
    loader!(module.exports, require, module, entry, dirname(entry), queue);
    this.pw = module.exports;
  }

  private trapped(error: unknown): ParquetPanic {
    if (!this.panic) {
      const e = error instanceof Error ? error : new Error(String(error));
      this.panic = new ParquetPanic(`corrupt data made the Parquet decoder panic (parquet-wasm ${e.name}: ${e.message})`);
      if (current === this) current = undefined;
    }
    for (const reject of this.inFlight) reject(this.panic);
    this.inFlight.clear();
    return this.panic;
  }

  /**
   * Calls `fn` with this instance's parquet-wasm: its result, or a ParquetPanic if the instance
   * traps meanwhile (in `fn` itself or in a task it queued). Other errors pass through.
   */
  async run<T>(fn: (pw: Pw) => T | Promise<T>): Promise<T> {
    if (this.panic) throw this.panic;
    let reject!: (error: Error) => void;
    const trap = new Promise<never>((_, r) => (reject = r));
    this.inFlight.add(reject);
    try {
      return await Promise.race([(async () => fn(this.pw))(), trap]);
    } catch (error) {
      if (error instanceof WebAssembly.RuntimeError) throw this.trapped(error);
      throw error;
    } finally {
      this.inFlight.delete(reject);
      // A corrupt file can make the decoder allocate a lot; linear memory never shrinks.
      if (current === this && this.inFlight.size === 0 && this.pw.wasmMemory().buffer.byteLength > MAX_MEMORY) current = undefined;
    }
  }
}

let current: WasmInstance | undefined;

/** The instance to use now (loaded on first use, and again after a panic). */
export function parquetWasm(): WasmInstance {
  return (current ??= new WasmInstance());
}

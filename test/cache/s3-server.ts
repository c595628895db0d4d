// A real S3-compatible server (s3rver) for the S3 store's tests: on a free port of 127.0.0.1, over a
// scratch folder, with one bucket, stopped when the test file finishes.
import { randomBytes } from 'node:crypto';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import S3rver from 's3rver';
import { afterAll, beforeAll } from 'vitest';
import type { S3Config } from '../../src/cache/stores/s3-client.ts';
import { scratchDir } from '../helpers.ts';

export const bucket = 'quiver-test';

export interface S3Server {
  endpoint: string;
  /** s3rver's built-in account, under a fresh prefix unless one is given. */
  config(overrides?: Partial<S3Config>): S3Config;
  /** The standard AWS environment variables for the server. */
  env(): Record<string, string>;
}

/** Starts the server before the file's tests (call at the top level of a test file). */
export function useS3Server(): S3Server {
  const directory = scratchDir('quiver-s3-');
  let server: S3rver | undefined;
  let endpoint = '';
  beforeAll(async () => {
    server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true, configureBuckets: [{ name: bucket }] });
    endpoint = `http://127.0.0.1:${(await server.run()).port}`;
  });
  afterAll(() => server?.close());
  return {
    get endpoint() {
      return endpoint;
    },
    config: (overrides = {}) => ({
      endpoint, region: 'us-east-1', bucket, prefix: `run-${randomBytes(4).toString('hex')}`,
      accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', ...overrides,
    }),
    env: () => ({ AWS_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' }),
  };
}

/** A request a counting proxy passed on: method, path, Range, and the body bytes sent back. */
export interface Served {
  method: string;
  path: string;
  range?: string;
  bytes: number;
}

/**
 * An HTTP proxy in front of the server that records every request (s3rver does not check
 * signatures, so the host the client signed for may differ): what a reader fetched, byte for byte.
 * Started before the file's tests; `served` is the record so far.
 */
export function useCountingProxy(server: S3Server): { readonly endpoint: string; served: Served[] } {
  const served: Served[] = [];
  let endpoint = '';
  const proxy = createServer((req, res) => {
    const upstream = new URL(server.endpoint);
    const entry: Served = { method: req.method!, path: req.url!, range: req.headers.range, bytes: 0 };
    served.push(entry);
    const forward = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.on('data', (chunk: Buffer) => (entry.bytes += chunk.byteLength));
      answer.pipe(res);
    });
    req.pipe(forward);
  });
  beforeAll(() => new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', () => {
    endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    resolve();
  })));
  afterAll(() => new Promise<void>((resolve) => proxy.close(() => resolve())));
  return {
    get endpoint() {
      return endpoint;
    },
    served,
  };
}

/** Sets the AWS variables for `endpoint` (the server or a proxy) for the file's tests, and restores them after. */
export function useS3Environment(server: S3Server, endpoint: () => string): void {
  const saved = { ...process.env };
  beforeAll(() => {
    Object.assign(process.env, server.env(), { AWS_ENDPOINT_URL: endpoint() });
  });
  afterAll(() => {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  });
}

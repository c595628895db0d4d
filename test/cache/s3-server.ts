// A real S3-compatible server (s3rver) for the S3 store's tests: on a free port of 127.0.0.1, over a
// scratch folder, with one bucket, stopped when the test file finishes.
import { randomBytes } from 'node:crypto';
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

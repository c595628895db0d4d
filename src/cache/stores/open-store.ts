// A store from where it is (issue 17's STORE): a folder, or `s3://bucket/prefix` with the endpoint,
// region and credentials from the standard AWS environment variables; the blobs of distributed
// runs live there too.
import { resolve } from 'node:path';
import type { Blobs } from '../blobs.ts';
import type { Store } from '../store.ts';
import { FsBlobs } from './fs-blobs.ts';
import { FsStore } from './fs.ts';
import { S3Blobs } from './s3-blobs.ts';
import { S3Store } from './s3.ts';
import type { S3Config } from './s3-client.ts';

/** Where STORE is: a folder, or a bucket with the endpoint, region and credentials from `env`. */
function locate(location: string, env: NodeJS.ProcessEnv): { folder: string } | { bucket: S3Config } {
  if (!location.startsWith('s3://')) return { folder: resolve(location) };
  const [bucket, ...rest] = location.slice('s3://'.length).split('/');
  if (!bucket) throw new Error(`store ${location}: no bucket (expected s3://bucket/prefix)`);
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) throw new Error(`store ${location}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`);
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
  return {
    bucket: {
      endpoint: env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || `https://s3.${region}.amazonaws.com`,
      region,
      bucket,
      prefix: rest.filter(Boolean).join('/'),
      accessKeyId,
      secretAccessKey,
      sessionToken: env.AWS_SESSION_TOKEN || undefined,
    },
  };
}

/** The task cache at STORE. */
export function openStore(location: string, env: NodeJS.ProcessEnv = process.env): Store {
  const where = locate(location, env);
  return 'folder' in where ? new FsStore(where.folder) : new S3Store(where.bucket);
}

/** The request and reply bytes of distributed runs at STORE, beside its task cache. */
export function openBlobs(location: string, env: NodeJS.ProcessEnv = process.env): Blobs {
  const where = locate(location, env);
  return 'folder' in where ? new FsBlobs(where.folder) : new S3Blobs(where.bucket);
}

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
import { configFromEnv, type S3Config } from './s3-client.ts';

/** Where STORE is: a folder, or a bucket with the endpoint, region and credentials from `env`. */
function locate(location: string, env: NodeJS.ProcessEnv): { folder: string } | { bucket: S3Config } {
  if (!location.startsWith('s3://')) return { folder: resolve(location) };
  return { bucket: configFromEnv(location, env, 'store') };
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

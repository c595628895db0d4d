// A store from where it is (issue 17's STORE): a folder, or `s3://bucket/prefix` with the endpoint,
// region and credentials from the standard AWS environment variables.
import { resolve } from 'node:path';
import type { Store } from '../store.ts';
import { FsStore } from './fs.ts';
import { S3Store } from './s3.ts';

export function openStore(location: string, env: NodeJS.ProcessEnv = process.env): Store {
  if (!location.startsWith('s3://')) return new FsStore(resolve(location));
  const [bucket, ...rest] = location.slice('s3://'.length).split('/');
  if (!bucket) throw new Error(`store ${location}: no bucket (expected s3://bucket/prefix)`);
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) throw new Error(`store ${location}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`);
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
  return new S3Store({
    endpoint: env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || `https://s3.${region}.amazonaws.com`,
    region,
    bucket,
    prefix: rest.filter(Boolean).join('/'),
    accessKeyId,
    secretAccessKey,
    sessionToken: env.AWS_SESSION_TOKEN || undefined,
  });
}

// The S3 objects a source's `s3://bucket/glob` names: listed under the glob's literal prefix (page
// after page), then matched against the glob, in key order. Each becomes an InputFile whose key is
// its s3:// URL and which carries the object's reference (size and ETag from the listing).
import { messageOf } from '../workflow/errors.ts';
import type { InputFile } from './input-files.ts';
import { inputClient, s3Url } from './s3-object.ts';
import { parseS3 } from './s3-url.ts';

export async function matchS3Objects(url: string, noneIsEmpty = false): Promise<InputFile[]> {
  const { bucket, prefix, matches } = parseS3(url);
  const client = inputClient(bucket);
  const files: InputFile[] = [];
  try {
    for await (const o of client.list(prefix)) {
      // A key ending in '/' is a console's folder marker, not data.
      if (o.key.endsWith('/') || !matches(o.key)) continue;
      const object = { bucket, key: o.key, size: o.size, etag: o.etag };
      files.push({ path: s3Url(object), key: s3Url(object), bytes: o.size, object });
    }
  } catch (error) {
    throw new Error(`cannot list '${url}': ${messageOf(error)}`);
  }
  if (files.length === 0 && !noneIsEmpty) throw new Error(`no object matches '${url}' (listed under s3://${bucket}/${prefix})`);
  return files;
}

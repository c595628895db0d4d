// Signed requests to one S3 bucket (AWS Signature V4, by aws4), path-style (ENDPOINT/bucket/key)
// so that S3-compatible servers without per-bucket host names work too. Failures name the method,
// the object and the HTTP status, never the secret key or the signature.
import { createHash } from 'node:crypto';
import aws4 from 'aws4';

export interface S3Config {
  /** e.g. https://s3.eu-west-1.amazonaws.com or http://127.0.0.1:9000 */
  endpoint: string;
  region: string;
  bucket: string;
  /** Keys live below it ('' for the bucket's root). */
  prefix: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface S3Request {
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** A stream body must come with `sha256` (or it is sent unsigned) and a content-length header. */
  body?: Uint8Array | string | ReadableStream<Uint8Array>;
  /** The body's sha256 in hex, when known, so that the server checks the bytes it got. */
  sha256?: string;
  /** Statuses that are answers rather than failures (404 for an absent object; a missing bucket still fails). */
  expect?: number[];
}

/** One object of a listing. */
export interface S3Listed {
  key: string;
  size: number;
  /** As S3 gives it, quotes included: changes whenever the object is written again. */
  etag: string;
  lastModified: string;
}

/**
 * The bucket `s3://BUCKET/PREFIX` names, with the endpoint, region and credentials from the
 * standard AWS environment variables. `what` starts the messages ('store s3://…').
 */
export function configFromEnv(location: string, env: NodeJS.ProcessEnv, what: string): S3Config {
  const [bucket, ...rest] = location.slice('s3://'.length).split('/');
  if (!bucket) throw new Error(`${what} ${location}: no bucket (expected s3://bucket/prefix)`);
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) throw new Error(`${what} ${location}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`);
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
  return {
    endpoint: env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || `https://s3.${region}.amazonaws.com`,
    region,
    bucket,
    prefix: rest.filter(Boolean).join('/'),
    accessKeyId,
    secretAccessKey,
    sessionToken: env.AWS_SESSION_TOKEN || undefined,
  };
}

export class S3Error extends Error {
  constructor(message: string, readonly status?: number, readonly code?: string) {
    super(message);
  }
}

export class S3Client {
  constructor(readonly config: S3Config) {}

  /** `name` below the prefix, as a key in the bucket. */
  key(name: string): string {
    return this.config.prefix ? `${this.config.prefix}/${name}` : name;
  }

  /** `s3://bucket/key`, for messages. */
  where(key = this.config.prefix): string {
    return `s3://${this.config.bucket}/${key}`;
  }

  /** Sends a request for `key` ('' for the bucket itself); fails unless it succeeds or its status is expected. */
  async send(method: string, key: string, request: S3Request = {}): Promise<Response> {
    // URLs drop '.' and fold '..' (also when percent-encoded): such a key would name another object.
    if (key.split('/').some((s) => s === '.' || s === '..')) throw new S3Error(`S3 ${method} ${this.where(key)}: a key with a '.' or '..' segment cannot be addressed`, 400);
    const url = new URL(this.config.endpoint);
    const base = url.pathname.replace(/\/+$/, '');
    const path = `${base}/${encodeKey(this.config.bucket)}${key ? `/${encodeKey(key)}` : ''}`;
    const query = new URLSearchParams(request.query).toString().replace(/\+/g, '%20');
    const body = request.body;
    const sha256 = request.sha256 ?? (body === undefined ? hashHex('') : body instanceof ReadableStream ? 'UNSIGNED-PAYLOAD' : hashHex(body));
    const signed = aws4.sign({
      host: url.host, path: query ? `${path}?${query}` : path, method, service: 's3', region: this.config.region,
      headers: { ...request.headers, 'X-Amz-Content-Sha256': sha256 },
    }, { accessKeyId: this.config.accessKeyId, secretAccessKey: this.config.secretAccessKey, sessionToken: this.config.sessionToken });
    const target = `${url.protocol}//${url.host}${signed.path}`;
    let response: Response;
    try {
      response = await fetch(target, { method, headers: signed.headers as Record<string, string>, body, duplex: 'half' } as RequestInit);
    } catch (e) {
      const cause = (e as Error & { cause?: Error }).cause?.message ?? (e as Error).message;
      throw new S3Error(`S3 ${method} ${this.where(key)}: cannot reach ${this.config.endpoint} (${cause})`);
    }
    if (response.ok) return response;
    // The error document (a HEAD answer has none) tells an absent object from an absent bucket.
    // An expected failure comes back with it read.
    const text = await response.text().catch(() => '');
    if (request.expect?.includes(response.status) && !text.includes('<Code>NoSuchBucket</Code>')) return response;
    throw this.failure(method, key, response.status, text);
  }

  /** `send`, for an answer that is all status and headers: its body is read, freeing the connection. */
  async call(method: string, key: string, request: S3Request = {}): Promise<Response> {
    const response = await this.send(method, key, request);
    if (!response.bodyUsed) await response.arrayBuffer();
    return response;
  }

  /**
   * Every object whose key starts with `prefix`, in key order: ListObjects (v1), page after page
   * from the last key listed (s3rver's v2 continuation tokens need DES, which Node 20's OpenSSL 3
   * lacks, so v2 could not be tested past one page).
   */
  async *list(prefix: string): AsyncGenerator<S3Listed> {
    let marker = '';
    for (;;) {
      const text = await (await this.send('GET', '', { query: { prefix, marker } })).text();
      for (const [, contents] of text.matchAll(/<Contents>(.*?)<\/Contents>/gs)) {
        const field = (name: string) => unescapeXml(new RegExp(`<${name}>(.*?)</${name}>`, 's').exec(contents)?.[1] ?? '');
        marker = field('Key');
        yield { key: marker, size: Number(field('Size')), etag: field('ETag'), lastModified: field('LastModified') };
      }
      if (!/<IsTruncated>true<\/IsTruncated>/.test(text)) return;
    }
  }

  /** The error document's code and message, never the request itself (it holds the signature). */
  failure(method: string, key: string, status: number, text: string): S3Error {
    const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
    const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
    const hint = code === 'NoSuchBucket' ? `: bucket '${this.config.bucket}' does not exist at ${this.config.endpoint}`
      : code === 'InvalidAccessKeyId' || code === 'SignatureDoesNotMatch' || status === 403
        ? ': check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN, AWS_REGION)' : '';
    const detail = [code, message && unescapeXml(message)].filter(Boolean).join(': ');
    return new S3Error(`S3 ${method} ${this.where(key)} failed with HTTP ${status}${detail ? ` (${detail})` : ''}${hint}`, status, code);
  }
}

/** A key in a URL path: each segment percent-encoded as S3 signs it (RFC 3986). */
const encodeKey = (key: string) =>
  key.split('/').map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)).join('/');

const hashHex = (body: Uint8Array | string) => createHash('sha256').update(body).digest('hex');

export function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|quot|apos|amp);/g, (_, e: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e]!);
}

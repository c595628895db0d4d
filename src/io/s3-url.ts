// `s3://bucket/key-glob` as a source's path: the bucket, the glob on the key, the literal prefix
// to list, and whether --allow-path lets a workflow read there. Globs mean what they mean for local
// files: `*` and `?` stay within a '/'-separated segment, `**` crosses them, `[...]` and `{a,b}`.
const globMagic = /[*?[\]{}]/;

export const isS3 = (path: string) => path.startsWith('s3://');

export interface S3Pattern {
  bucket: string;
  /** The glob on the key (or one key). */
  pattern: string;
  /** What every matching key starts with: the characters before the first wildcard. */
  prefix: string;
  /** The folder part of `prefix` (whole segments): what --allow-path must cover. */
  folder: string;
  matches(key: string): boolean;
}

/** `s3://bucket/key-glob` parsed; throws naming the URL when it cannot be read safely. */
export function parseS3(url: string): S3Pattern {
  const [bucket, ...rest] = url.slice('s3://'.length).split('/');
  const pattern = rest.join('/');
  if (!bucket || !pattern) throw new Error(`'${url}': expected s3://bucket/key or s3://bucket/prefix/*.parquet`);
  // A URL path folds these away, so the object read would not be the one the text names.
  if (rest.some((s) => s === '.' || s === '..')) throw new Error(`'${url}' has a '.' or '..' segment; write the key as it is stored`);
  const magic = pattern.search(globMagic);
  const prefix = magic < 0 ? pattern : pattern.slice(0, magic);
  const folder = magic < 0 ? pattern : prefix.slice(0, prefix.lastIndexOf('/') + 1).replace(/\/$/, '');
  const regex = magic < 0 ? undefined : globRegex(pattern);
  return { bucket, pattern, prefix, folder, matches: (key) => (regex ? regex.test(key) : key === pattern) };
}

/** A glob as a regular expression over a whole key. */
function globRegex(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      // `**/` is any number of whole segments (none included); a bare `**` anything at all.
      if (glob[i + 2] === '/') { out += '(?:.*/)?'; i += 2; } else { out += '.*'; i += 1; }
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) { out += '\\['; continue; }
      const body = glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\');
      out += `(?!/)[${body}]`;
      i = end;
    } else if (c === '{') {
      const end = glob.indexOf('}', i);
      if (end < 0) { out += '\\{'; continue; }
      out += `(?:${glob.slice(i + 1, end).split(',').map((a) => globRegex(a).source.slice(1, -1)).join('|')})`;
      i = end;
    } else out += c.replace(/[.+^$()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

/**
 * Why `url` may not be read, or undefined: some `--allow-path s3://bucket[/prefix]` must cover the
 * folder part of its key (whole segments, so `s3://b/in` does not let `s3://b/inside/` be read).
 */
export function s3PathOutside(url: string, allowed: string[]): string | undefined {
  let parsed: S3Pattern;
  try {
    parsed = parseS3(url);
  } catch (error) {
    return (error as Error).message;
  }
  const { bucket, folder } = parsed;
  const covered = allowed.filter(isS3).some((root) => {
    const [b, ...rest] = root.slice('s3://'.length).split('/');
    const prefix = rest.filter(Boolean).join('/');
    return b === bucket && (prefix === '' || folder === prefix || folder.startsWith(`${prefix}/`));
  });
  if (covered) return undefined;
  return `'${url}' is in S3, which a workflow reads only where allowed; to read there, allow it: --allow-path s3://${bucket}/${folder}`;
}

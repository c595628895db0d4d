// Stable hashing of values for cache keys: the same value gives the same key on every machine,
// whatever order its object keys were written in.
import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level; undefined members are left out, as JSON does. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return typeof v === 'bigint' ? `${v}n` : v;
    return Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, (v as Record<string, unknown>)[k]]));
  });
}

/** sha256 (hex) of the parts, each length-prefixed so that ['ab', 'c'] and ['a', 'bc'] differ. */
export function hashParts(...parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(`${Buffer.byteLength(part)}:`).update(part);
  return hash.digest('hex');
}

// Deterministic mutations of a file's bytes for the fuzz tests (fuzz.test.ts, fuzz-images.test.ts):
// a seeded PRNG, and damage of the kinds real files suffer (cut short, bytes flipped, ranges
// zeroed, deleted or duplicated, a length field gone wild).

/** mulberry32: small, fast, and the same on every machine. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  /** An integer in [0, n). */
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(items: readonly T[]) => items[int(items.length)] };
}
export type Rng = ReturnType<typeof prng>;

export interface Mutation {
  what: string;
  bytes: Uint8Array;
}

export const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
};

/** Where in the file: anywhere, the first 512 bytes (magic, header, schema) or the last 512 (footer). */
function position(rng: Rng, size: number, region: 'any' | 'head' | 'tail'): number {
  const span = Math.min(size, 512);
  if (region === 'head') return rng.int(span);
  if (region === 'tail') return size - 1 - rng.int(span);
  return rng.int(size);
}

const kinds = ['truncate', 'flip', 'special', 'zero', 'delete', 'duplicate', 'length'] as const;

/** One mutated copy of `original` (never equal to it). */
export function mutate(original: Uint8Array, rng: Rng): Mutation {
  const size = original.byteLength;
  const kind = rng.pick(kinds);
  const region = rng.pick(['any', 'head', 'tail'] as const);
  const at = position(rng, size, region);
  const bytes = original.slice();
  switch (kind) {
    case 'truncate': {
      const cut = Math.max(1, Math.min(at, size - 1));
      return { what: `truncate to ${cut} of ${size} bytes`, bytes: original.slice(0, cut) };
    }
    case 'flip': {
      const n = 1 + rng.int(8);
      const where: number[] = [];
      for (let k = 0; k < n; k++) {
        const p = k === 0 ? at : position(rng, size, region);
        bytes[p] ^= 1 + rng.int(255);
        where.push(p);
      }
      return { what: `flip bytes at ${where.join(', ')} (${region})`, bytes };
    }
    case 'special': {
      // Bytes that mean something to a parser: quote, delimiters, line ends, NUL, invalid UTF-8, 0xFF of a -1 marker.
      const value = rng.pick([0x22, 0x2c, 0x3b, 0x0a, 0x0d, 0x00, 0xff, 0xc3]);
      if (bytes[at] === value) bytes[at] ^= 1;
      else bytes[at] = value;
      return { what: `set byte ${at} to 0x${bytes[at].toString(16)} (${region})`, bytes };
    }
    case 'zero': {
      const length = 1 + rng.int(Math.min(256, size - at));
      bytes.fill(0, at, at + length);
      if (bytes.every((b, i) => b === original[i])) bytes[at] = 0x41;
      return { what: `zero bytes ${at}-${at + length} (${region})`, bytes };
    }
    case 'delete': {
      const length = 1 + rng.int(Math.min(64, size - at));
      return { what: `delete bytes ${at}-${at + length} (${region})`, bytes: concat(original.subarray(0, at), original.subarray(at + length)) };
    }
    case 'duplicate': {
      const length = 1 + rng.int(Math.min(512, size - at));
      return {
        what: `duplicate bytes ${at}-${at + length} (${region})`,
        bytes: concat(original.subarray(0, at + length), original.subarray(at, at + length), original.subarray(at + length)),
      };
    }
    case 'length': {
      // A length or offset field gone wild: an aligned 32-bit word set to a huge, negative or
      // too-large value (in these formats most aligned words near the ends are lengths or offsets).
      const p = Math.min(at & ~3, size - 4);
      const value = rng.pick([0x7fffffff, -1, -8, 0x40000000, size, size * 2 + 8]);
      new DataView(bytes.buffer).setInt32(p, value, true);
      if (bytes.every((b, i) => b === original[i])) bytes[p] ^= 0x10;
      return { what: `set int32 at ${p} to ${value} (${region})`, bytes };
    }
  }
}

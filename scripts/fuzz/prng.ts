/**
 * A small seeded PRNG (sfc32, seeded through splitmix32) so that a fuzz run
 * is reproducible from its seed: the same `--seed` and `--cases` generate the
 * same cases in the same order. Not for anything secret.
 */

/** A reproducible source of random choices. */
export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** One element of `items`. */
  pick<T>(items: readonly T[]): T;
  /** `n` random bytes. */
  bytes(n: number): Buffer;
  /** A string of `n` characters drawn from `alphabet`. */
  text(n: number, alphabet?: string): string;
  /** A hex seed for a child generator (e.g. one per case). */
  fork(): Rng;
}

function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** A generator seeded with `seed` (a 32-bit integer). */
export function createRng(seed: number): Rng {
  const init = splitmix32(seed);
  let [a, b, c, d] = [init(), init(), init(), init()];
  const u32 = (): number => {
    // sfc32
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 12; i += 1) u32();
  const rng: Rng = {
    next: () => u32() / 2 ** 32,
    int: (min, max) => min + Math.floor(rng.next() * (max - min + 1)),
    chance: (p) => rng.next() < p,
    pick: (items) => {
      if (items.length === 0) throw new Error("pick from an empty list");
      return items[rng.int(0, items.length - 1)] as (typeof items)[number];
    },
    bytes: (n) => {
      const out = Buffer.alloc(n);
      for (let i = 0; i < n; i += 1) out[i] = u32() & 0xff;
      return out;
    },
    text: (n, alphabet = "abcdefghijklmnopqrstuvwxyz0123456789") => {
      let out = "";
      for (let i = 0; i < n; i += 1) out += alphabet[rng.int(0, alphabet.length - 1)];
      return out;
    },
    fork: () => createRng(u32()),
  };
  return rng;
}

/** A UUID (v4 layout) drawn from `rng`, so that generated ids are reproducible too. */
export function uuidFrom(rng: Rng): string {
  const hex = rng.bytes(16);
  hex[6] = (hex[6]! & 0x0f) | 0x40;
  hex[8] = (hex[8]! & 0x3f) | 0x80;
  const h = hex.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

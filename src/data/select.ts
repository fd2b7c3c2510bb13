// Seeded subsets and hold-outs. Each purpose draws from its own stream (Rng.derive(seed, label)), so e.g.
// changing `testLimit` never changes which examples are held out for validation.
import { Rng } from '../util/rng.ts';
import type { Split } from './types.ts';

/** Values per example (h·w·c or dim). */
export const perExample = (s: Split): number => (s.n === 0 ? 0 : s.x.length / s.n);

/** The examples at `idx`, copied into a compact split. */
export function pick(s: Split, idx: ArrayLike<number>, per: number): Split {
  const n = idx.length;
  const x = s.x instanceof Float32Array ? new Float32Array(n * per) : new Uint8Array(n * per);
  const y = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    const i = idx[k];
    x.set(s.x.subarray(i * per, (i + 1) * per), k * per);
    y[k] = s.y[i];
  }
  return { x, y, n };
}

/** A seeded random subset of `count` examples, kept in their original order. */
export function seededSubset(s: Split, count: number, seed: number, label: string, per: number): Split {
  if (count >= s.n) return s;
  const chosen = Rng.derive(seed, label).permutation(s.n).subarray(0, count).sort();
  return pick(s, chosen, per);
}

/** Hold out round(n·fraction) seeded examples: [rest, heldOut]. */
export function holdOut(s: Split, fraction: number, seed: number, label: string, per: number): [Split, Split] {
  const k = Math.round(s.n * fraction);
  const perm = Rng.derive(seed, label).permutation(s.n);
  const held = perm.slice(0, k).sort();
  const rest = perm.slice(k).sort();
  return [pick(s, rest, per), pick(s, held, per)];
}

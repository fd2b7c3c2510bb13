// Mean ± sample standard deviation (n − 1) over seeds; std is null for a single seed.

export interface Stat {
  mean: number;
  std: number | null;
  n: number;
}

/** Over the finite values only; NaN mean when there are none. */
export function stat(values: number[]): Stat {
  const v = values.filter(Number.isFinite);
  const n = v.length;
  if (n === 0) return { mean: NaN, std: null, n: 0 };
  const mean = v.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, std: null, n };
  const ss = v.reduce((a, b) => a + (b - mean) ** 2, 0);
  return { mean, std: Math.sqrt(ss / (n - 1)), n };
}

/** "0.9812 ± 0.0021", or just the mean for one seed, or "—" for none. */
export function fmt(s: Stat, digits = 4): string {
  if (!Number.isFinite(s.mean)) return '—';
  return s.std === null ? s.mean.toFixed(digits) : `${s.mean.toFixed(digits)} ± ${s.std.toFixed(digits)}`;
}

/** Mean and std of vectors of equal length, element by element. */
export function statVec(vectors: number[][]): Stat[] {
  const len = Math.max(0, ...vectors.map((v) => v.length));
  return Array.from({ length: len }, (_, i) => stat(vectors.map((v) => v[i] ?? NaN)));
}

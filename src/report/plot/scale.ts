// Axis helpers: "nice" tick positions (1, 2, 5 × 10^k steps), linear maps, and tick labels.

export interface Domain {
  min: number;
  max: number;
}

export function niceStep(range: number, target: number): number {
  const raw = range / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * mag;
}

/** Widen a domain to whole steps and list the ticks inside it. */
export function niceTicks(d: Domain, target = 6, integer = false): { domain: Domain; ticks: number[]; step: number } {
  let { min, max } = d;
  if (!(max > min)) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  let step = niceStep(max - min, target);
  if (integer) step = Math.max(1, Math.round(step));
  const lo = Math.floor(min / step + 1e-9) * step;
  const hi = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  const k0 = Math.round(lo / step);
  const count = Math.round((hi - lo) / step);
  for (let i = 0; i <= count; i++) ticks.push(parseFloat(((k0 + i) * step).toPrecision(12)) || 0); // || 0: no −0
  return { domain: { min: lo, max: hi }, ticks, step };
}

export function formatTick(v: number, step: number): string {
  let d = 0;
  while (d < 6 && Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) > 1e-6) d++;
  const s = v.toFixed(d);
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s.replace('-', '−');
}

export function linear(d: Domain, r0: number, r1: number): (v: number) => number {
  const k = (r1 - r0) / (d.max - d.min);
  return (v) => r0 + (v - d.min) * k;
}

/** The extent of finite values; null if there are none. */
export function extent(values: Iterable<number>): Domain | null {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return min <= max ? { min, max } : null;
}

// Repeated, interleaved timings: a speed-up read off one 10–70 ms measurement is noise. Each candidate runs
// once per round, in turn, so drift in the machine's speed falls on all of them alike; rounds go on until
// there are enough of them and enough time has passed for the median to settle.

/** The spread of repeated measurements, in seconds (or a unitless ratio for speed-ups). */
export interface Spread {
  median: number;
  min: number;
  max: number;
  repeats: number;
}

export function spread(values: number[]): Spread {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], repeats: s.length };
}

export interface RepeatLimits {
  minRepeats: number; // at least this many rounds
  minSeconds: number; // and at least this much time in all
  maxRepeats: number; // but no more rounds than this
  maxSeconds: number; // and stop starting rounds after this long
}

export const TIMING_LIMITS: RepeatLimits = { minRepeats: 5, minSeconds: 3, maxRepeats: 100, maxSeconds: 60 };

/** Seconds of each round for each candidate ([candidate][round]), after one untimed warm-up round. */
export async function timeInterleaved(candidates: (() => Promise<unknown>)[], limits: RepeatLimits = TIMING_LIMITS): Promise<number[][]> {
  for (const run of candidates) await run(); // warm-up: kernels compiled, buffers allocated
  const out: number[][] = candidates.map(() => []);
  const t0 = performance.now();
  for (let round = 0; round < limits.maxRepeats; round++) {
    const elapsed = (performance.now() - t0) / 1000;
    if (round >= limits.minRepeats && elapsed >= limits.minSeconds) break;
    if (round >= 1 && elapsed >= limits.maxSeconds) break;
    for (const [i, run] of candidates.entries()) {
      const t = performance.now();
      await run();
      out[i].push((performance.now() - t) / 1000);
    }
  }
  return out;
}

/** a/b per round (paired: the same round's measurements), as a spread. */
export const ratioSpread = (a: number[], b: number[]): Spread => spread(a.map((x, i) => x / b[i]));

// The prior over depth d = 0..D (SPEC §3), as log-probabilities in float64 for exactness.
import type { PriorConfig } from '../config/types.ts';

export function logPrior(prior: PriorConfig, maxDepth: number): Float64Array {
  const n = maxDepth + 1;
  const logits = new Float64Array(n);
  // geometric: p(d) ∝ decay^d (truncated); uniform: every depth alike
  for (let d = 0; d < n; d++) logits[d] = prior.kind === 'geometric' ? d * Math.log(prior.decay) : 0;
  const max = Math.max(...logits);
  let sum = 0;
  for (let d = 0; d < n; d++) sum += Math.exp(logits[d] - max);
  const logZ = max + Math.log(sum);
  return logits.map((l) => l - logZ);
}

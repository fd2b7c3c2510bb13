// The depth a trained network is cut at (SPEC §4).
import type { PruneConfig } from '../config/types.ts';
import { expectedDepth } from './posterior.ts';

/** threshold: the smallest d with q_d > threshold · max q (threshold 1: the mode); expected: round(E_q[d]). */
export function pruneDepth(q: number[], rule: PruneConfig): number {
  if (rule.rule === 'expected') return Math.round(expectedDepth(q));
  const max = Math.max(...q);
  const d = q.findIndex((p) => p > rule.threshold * max);
  return d < 0 ? q.indexOf(max) : d;
}

// Cutting a trained learnt-depth network at d* (SPEC §4): keep the input block, blocks 1..d* and the head,
// restrict α to 0..d* with the tail mass Σ_{k>d*} q_k moved onto d*. No retraining. The result is an
// ordinary learnt-depth network of max depth d*, so everything that loads a run can load it.
import type { VdsConfig } from '../config/types.ts';
import type { Checkpoint } from './checkpoint.ts';
import { PreciseStats } from '../model/norm-stats.ts';

type TensorMap = Checkpoint['tensors'];

/** log q truncated at d (a valid set of logits for softmax), in float64 for exactness. */
export function truncatedAlpha(alpha: Float32Array, depth: number): Float32Array {
  const max = Math.max(...alpha);
  const logZ = max + Math.log(alpha.reduce((s, a) => s + Math.exp(a - max), 0));
  const logQ = Array.from(alpha, (a) => a - logZ);
  const tail = logQ.slice(depth);
  const tailMax = Math.max(...tail);
  const logTail = tailMax + Math.log(tail.reduce((s, l) => s + Math.exp(l - tailMax), 0));
  return Float32Array.from([...logQ.slice(0, depth), logTail]);
}

export function prunedConfig(config: VdsConfig, depth: number): VdsConfig {
  return { ...config, model: { ...config.model, maxDepth: depth } };
}

/** The checkpoint tensors of the network cut at `depth` (optimiser state and precise statistics dropped). */
export function pruneTensors(tensors: TensorMap, depth: number): TensorMap {
  const out: TensorMap = new Map();
  for (const [name, t] of tensors) {
    // precise statistics are recalibrated for the pruned network's own depths (vds prune)
    if (name.startsWith('momentum:') || PreciseStats.isEntry(name)) continue;
    const block = /^(?:param|buffer):blocks\.(\d+)\./.exec(name);
    if (block && Number(block[1]) >= depth) continue;
    out.set(name, name === 'alpha' ? { shape: [depth + 1], values: truncatedAlpha(t.values, depth) } : t);
  }
  return out;
}

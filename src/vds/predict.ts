// Predictions by marginalising over depth, in log space (SPEC §1, §4):
//   log p(y|x) = logsumexp_d [log q_d + log softmax(f_d(x))_y]
import { tf } from '../tf/tf.ts';

/** [H, B, C] logits and [H] log q → [B, C] log predictive. */
export function marginalLogProbs(logits: tf.Tensor3D, logQ: tf.Tensor1D): tf.Tensor2D {
  const weighted = tf.add(tf.logSoftmax(logits), tf.reshape(logQ, [-1, 1, 1])); // [H, B, C]
  return tf.logSumExp(weighted, 0) as tf.Tensor2D;
}

/**
 * log q restricted to depths 0..d with the tail mass Σ_{k≥d} q_k moved onto d, so the network cut at d
 * still predicts with a normalised posterior. [D+1] → [d+1].
 */
export function truncatedLogQ(logQ: tf.Tensor1D, depth: number): tf.Tensor1D {
  const n = logQ.shape[0];
  if (depth >= n - 1) return logQ.clone();
  const head = tf.slice(logQ, 0, depth);
  const tail = tf.reshape(tf.logSumExp(tf.slice(logQ, depth, n - depth)), [1]);
  return tf.concat([head, tail]) as tf.Tensor1D;
}

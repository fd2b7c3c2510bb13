// The exact ELBO from one all-depth forward pass (SPEC §1, §3):
//   loss = Σ_d q_d · mean_n CE(f_d(x_n), y_n) + KL(q ‖ p) / N_train
import { tf } from '../tf/tf.ts';

export interface VdsLoss {
  loss: tf.Scalar; // the minibatch objective (negative ELBO per sample)
  expectedNll: tf.Scalar; // Σ_d q_d · NLL_d
  kl: tf.Scalar; // KL(q ‖ p), nats
  nllPerDepth: tf.Tensor1D; // [H] mean NLL of each depth's head
}

/** Mean over the batch of −log softmax(f_d(x))_y, for every depth: [H, B, C] → [H]. */
export function nllPerDepth(logits: tf.Tensor3D, labels: tf.Tensor1D): tf.Tensor1D {
  const classes = logits.shape[2];
  const oneHot = tf.expandDims(tf.oneHot(labels, classes), 0); // [1, B, C]
  const logp = tf.logSoftmax(logits); // [H, B, C]
  return tf.neg(tf.mean(tf.sum(tf.mul(logp, oneHot), 2), 1)) as tf.Tensor1D;
}

/** KL(q ‖ p) = Σ_d q_d (log q_d − log p_d), from log-probabilities. */
export function klDivergence(logQ: tf.Tensor1D, logP: tf.Tensor1D): tf.Scalar {
  return tf.sum(tf.mul(tf.exp(logQ), tf.sub(logQ, logP))) as tf.Scalar;
}

/**
 * logQ/logP cover exactly the heads in `logits` (all depths for a learnt network; one for a DDN, where
 * logQ = logP = [0] so the KL vanishes).
 */
export function vdsLoss(
  logits: tf.Tensor3D,
  labels: tf.Tensor1D,
  logQ: tf.Tensor1D,
  logP: tf.Tensor1D,
  nTrain: number,
): VdsLoss {
  const nll = nllPerDepth(logits, labels);
  const expectedNll = tf.sum(tf.mul(tf.exp(logQ), nll)) as tf.Scalar;
  const kl = klDivergence(logQ, logP);
  const loss = tf.add(expectedNll, tf.div(kl, nTrain)) as tf.Scalar;
  return { loss, expectedNll, kl, nllPerDepth: nll };
}

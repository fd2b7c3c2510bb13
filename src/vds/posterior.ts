// The variational posterior over depth, kept apart from the network: q_α(d) = softmax(α), α = 0 at the
// start (q uniform). A fixed-depth network (DDN) has no α: its q is one-hot on its depth.
import { tf, takeFloats } from '../tf/tf.ts';

let posteriorCounter = 0; // TF.js variable names are global to the engine

export class DepthPosterior {
  /** α, trained with the weights; null for a fixed-depth network. */
  readonly alpha: tf.Variable | null;

  constructor(readonly maxDepth: number, readonly learnt: boolean) {
    if (!learnt) {
      this.alpha = null;
      return;
    }
    const zeros = tf.zeros([maxDepth + 1]);
    this.alpha = tf.variable(zeros, true, `q.alpha.${posteriorCounter++}`);
    zeros.dispose();
  }

  /** log q(d) over the depths whose heads the forward pass computes: [D+1] learnt, [1] fixed. */
  logQ(): tf.Tensor1D {
    return this.alpha ? (tf.logSoftmax(this.alpha) as tf.Tensor1D) : tf.zeros([1]);
  }

  /** q as plain numbers over 0..D (one-hot on D for a fixed-depth network). */
  async probs(): Promise<number[]> {
    if (!this.alpha) return Array.from({ length: this.maxDepth + 1 }, (_, d) => (d === this.maxDepth ? 1 : 0));
    return Array.from(await takeFloats(tf.tidy(() => tf.softmax(this.alpha!))));
  }

  dispose(): void {
    this.alpha?.dispose();
  }
}

/** E_q[d]. */
export function expectedDepth(q: number[]): number {
  return q.reduce((acc, p, d) => acc + p * d, 0);
}

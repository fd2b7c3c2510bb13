// Activation checkpointing (what torch.utils.checkpoint does): a segment of the network keeps only its input
// for the backward pass instead of every intermediate activation; its backward pass runs the segment again
// from that input, this time on a tape, and backpropagates through the recomputed graph. Memory then grows
// with depth by one activation per segment (a residual block's input) instead of every tensor inside it, for
// the price of a second forward pass of each segment. The gradients are the plain backward's: the same
// kernels run on the same inputs in the same order (test/recompute.test.ts checks bit equality).
import { tf } from './tf.ts';
import { custom, type SaveFn } from './custom.ts';

/** The part of TF.js's engine state this needs: the tape of the gradient computation in progress. */
interface EngineTape {
  state: { activeTape: unknown };
}

/**
 * `segment(x, replaying)` applied to x, recomputed in the backward pass. It must be deterministic and read
 * nothing that changes between the two passes; every tensor it takes a gradient for must be in `params`
 * (the weights it uses) or be x. `replaying` is false in the forward pass and true when it runs again
 * (so it can reuse what the first pass measured, such as BatchNorm statistics).
 */
export function recomputed(segment: (x: tf.Tensor, replaying: boolean) => tf.Tensor, x: tf.Tensor, params: tf.Tensor[]): tf.Tensor {
  const f = custom((...args: unknown[]) => {
    const save = args.pop() as SaveFn;
    const input = args[0] as tf.Tensor;
    // no tape records inside a custom op's forward pass: the segment's intermediates are freed here
    const value = segment(input, false);
    save([input]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const x0 = saved[0];
      // A gradient computation inside the outer one's backward pass: TF.js keeps one tape, which the
      // inner computation replaces and clears when it ends. Put the outer tape back afterwards.
      const engine = tf.engine() as unknown as EngineTape;
      const outer = engine.state.activeTape;
      try {
        const { value: again, grads } = tf.engine().gradients(() => segment(x0, true), [x0, ...params], dy);
        again.dispose();
        return grads;
      } finally {
        engine.state.activeTape = outer;
        // nothing else reads the saved input or this segment's output gradient: free them now
        x0.dispose();
        dy.dispose();
      }
    };
    return { value, gradFunc };
  });
  return f(x, ...params);
}

// SGD with momentum, PyTorch semantics (no dampening, no Nesterov):
//   g ← g + wd·θ;  buf ← m·buf + g;  θ ← θ − lr·buf
// The momentum buffers are named after their parameters so a checkpoint can store and restore them.
import { tf } from '../tf/tf.ts';

export class Sgd {
  readonly buffers = new Map<string, tf.Variable>();

  constructor(
    public lr: number,
    readonly momentum: number,
    readonly weightDecay: number,
  ) {}

  /** Applies one update. `grads` are owned by the caller; no tensor escapes. */
  step(vars: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>): void {
    tf.tidy(() => {
      for (const [name, v] of vars) {
        const g0 = grads.get(name);
        if (!g0) continue; // parameters outside the computed depth get no gradient and do not move
        const g = this.weightDecay ? tf.add(g0, tf.mul(v, this.weightDecay)) : g0;
        let update = g;
        if (this.momentum) {
          const buf = this.buffers.get(name);
          if (buf) {
            buf.assign(tf.add(tf.mul(buf, this.momentum), g));
          } else {
            this.buffers.set(name, tf.variable(g, false)); // PyTorch: buf = g on step one
          }
          update = this.buffers.get(name)!;
        }
        v.assign(tf.sub(v, tf.mul(update, this.lr)));
      }
    });
  }

  dispose(): void {
    for (const b of this.buffers.values()) b.dispose();
    this.buffers.clear();
  }
}

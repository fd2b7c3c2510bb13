// Named parameters and buffers of a network, in a fixed order, so checkpoints, optimiser state and the
// parity test can address them by name. Trainable weights and BatchNorm running statistics live apart.
import { tf } from '../tf/tf.ts';
import type { Rng } from '../util/rng.ts';

let storeCounter = 0;

export class ParamStore {
  // TF.js variable names are global to the engine; ours are prefixed so several networks can coexist.
  private readonly tfPrefix = `vds${storeCounter++}/`;
  readonly params = new Map<string, tf.Variable>(); // trained by the optimiser
  readonly buffers = new Map<string, tf.Variable>(); // BatchNorm running statistics

  /** PyTorch's default for Conv/Linear weights and biases: U(−1/√fan_in, 1/√fan_in). */
  uniform(name: string, shape: number[], fanIn: number, rng: Rng): tf.Variable {
    const bound = 1 / Math.sqrt(fanIn);
    const size = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    for (let i = 0; i < size; i++) values[i] = rng.uniformRange(-bound, bound);
    return this.add(name, tf.tensor(values, shape), true);
  }

  constant(name: string, shape: number[], value: number, trainable: boolean): tf.Variable {
    return this.add(name, tf.fill(shape, value), trainable);
  }

  private add(name: string, init: tf.Tensor, trainable: boolean): tf.Variable {
    if (this.params.has(name) || this.buffers.has(name)) throw new Error(`duplicate parameter ${name}`);
    const v = tf.variable(init, trainable, this.tfPrefix + name);
    init.dispose();
    (trainable ? this.params : this.buffers).set(name, v);
    return v;
  }

  get(name: string): tf.Variable {
    const v = this.params.get(name) ?? this.buffers.get(name);
    if (!v) throw new Error(`no parameter ${name}`);
    return v;
  }

  /** Number of trainable scalars whose names pass `keep`. */
  count(keep: (name: string) => boolean = () => true): number {
    let n = 0;
    for (const [name, v] of this.params) if (keep(name)) n += v.size;
    return n;
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    for (const v of this.buffers.values()) v.dispose();
    this.params.clear();
    this.buffers.clear();
  }
}

/** A BatchNorm's parameters: γ=1, β=0 trainable; running mean 0 and variance 1 as buffers. */
export function addBatchNorm(store: ParamStore, prefix: string, channels: number): void {
  store.constant(`${prefix}.gamma`, [channels], 1, true);
  store.constant(`${prefix}.beta`, [channels], 0, true);
  store.constant(`${prefix}.runningMean`, [channels], 0, false);
  store.constant(`${prefix}.runningVar`, [channels], 1, false);
}

/** Trainable scalars of the network cut at `depth`: everything except blocks with index ≥ depth. */
export function countUpToDepth(store: ParamStore, depth: number): number {
  return store.count((name) => {
    const m = /^blocks\.(\d+)\./.exec(name);
    return !m || Number(m[1]) < depth;
  });
}

// The fully connected VDS network for the toy spirals (SPEC §2): Linear in→w; D blocks
// h + BN1d(ReLU(Linear w→w h)); one shared Linear w→classes head applied at every depth.
import { tf } from '../tf/tf.ts';
import { linear, relu } from '../tf/ops.ts';
import type { Rng } from '../util/rng.ts';
import { addBatchNorm, countUpToDepth, ParamStore } from './params.ts';
import { batchNorm } from './layers.ts';
import type { BatchStatsRecord, ForwardOptions, ForwardResult, Network } from './network.ts';

export interface FcResNetShape {
  inputDim: number;
  classes: number;
  maxDepth: number;
  width: number;
}

export class FcResNet implements Network {
  readonly kind = 'fc' as const;
  readonly store = new ParamStore();
  readonly maxDepth: number;
  readonly classes: number;

  constructor(readonly shape: FcResNetShape, rng: Rng) {
    const { inputDim, classes, maxDepth, width } = shape;
    this.maxDepth = maxDepth;
    this.classes = classes;
    const s = this.store;
    s.uniform('stem.w', [inputDim, width], inputDim, rng);
    s.uniform('stem.b', [width], inputDim, rng);
    for (let k = 0; k < maxDepth; k++) {
      s.uniform(`blocks.${k}.fc.w`, [width, width], width, rng);
      s.uniform(`blocks.${k}.fc.b`, [width], width, rng);
      addBatchNorm(s, `blocks.${k}.bn`, width);
    }
    s.uniform('head.out.w', [width, classes], width, rng);
    s.uniform('head.out.b', [classes], width, rng);
  }

  private lin(name: string, x: tf.Tensor2D): tf.Tensor2D {
    return linear(x, this.store.get(`${name}.w`) as tf.Tensor2D, this.store.get(`${name}.b`) as tf.Tensor1D);
  }

  forward(x: tf.Tensor, o: ForwardOptions): ForwardResult {
    const rec: BatchStatsRecord[] = [];
    const outs: tf.Tensor2D[] = [];
    let h = this.lin('stem', x as tf.Tensor2D); // [B, width]
    if (o.heads === 'all') outs.push(this.lin('head.out', h));
    for (let k = 0; k < o.upTo; k++) {
      const u = relu(this.lin(`blocks.${k}.fc`, h));
      h = tf.add(h, batchNorm(this.store, `blocks.${k}.bn`, u, { training: o.training, record: rec, precise: o.stats })) as tf.Tensor2D;
      if (o.heads === 'all') outs.push(this.lin('head.out', h));
    }
    if (o.heads === 'last') outs.push(this.lin('head.out', h));
    return { logits: tf.stack(outs) as tf.Tensor3D, batchStats: rec }; // [H, B, C]
  }

  paramCount(depth: number): number {
    return countUpToDepth(this.store, depth);
  }
}

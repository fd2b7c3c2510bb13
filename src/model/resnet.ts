// The conv VDS ResNet (SPEC §2): input block, D pre-activation bottleneck blocks, and one shared head
// applied after the input block and after every block, so one pass yields the logits of every depth.
import { tf } from '../tf/tf.ts';
import { avgPool2, conv2d, convAffineRelu, convBias, globalMeanPool, globalMeanPoolEval, linear, relu } from '../tf/ops.ts';
import { affineRelu, bnAffine, type Affine, type BatchStats } from '../tf/batchnorm.ts';
import { recomputed } from '../tf/recompute.ts';
import type { Rng } from '../util/rng.ts';
import { addBatchNorm, countUpToDepth, ParamStore } from './params.ts';
import { batchNorm, batchNormRelu, evalStats, type NormContext } from './layers.ts';
import type { PreciseStats } from './norm-stats.ts';
import type { BatchStatsRecord, ForwardOptions, ForwardResult, Network } from './network.ts';

export interface ConvResNetShape {
  inputChannels: number;
  classes: number;
  maxDepth: number;
  outerWidth: number; // 64 in the paper
  innerWidth: number; // 32 in the paper
}

function addConv(s: ParamStore, name: string, k: number, cin: number, cout: number, rng: Rng): void {
  s.uniform(`${name}.w`, [k, k, cin, cout], cin * k * k, rng);
  s.uniform(`${name}.b`, [cout], cin * k * k, rng);
}

function addLinear(s: ParamStore, name: string, fin: number, fout: number, rng: Rng): void {
  s.uniform(`${name}.w`, [fin, fout], fin, rng);
  s.uniform(`${name}.b`, [fout], fin, rng);
}

export class ConvResNet implements Network {
  readonly kind = 'conv' as const;
  readonly store = new ParamStore();
  readonly maxDepth: number;
  readonly classes: number;

  constructor(readonly shape: ConvResNetShape, rng: Rng) {
    const { inputChannels: cin, outerWidth: outer, innerWidth: inner, classes, maxDepth } = shape;
    this.maxDepth = maxDepth;
    this.classes = classes;
    const s = this.store;
    addConv(s, 'stem', 5, cin, outer, rng);
    for (let k = 0; k < maxDepth; k++) {
      const p = `blocks.${k}`;
      addBatchNorm(s, `${p}.bn1`, outer);
      addConv(s, `${p}.conv1`, 1, outer, inner, rng);
      addBatchNorm(s, `${p}.bn2`, inner);
      addConv(s, `${p}.conv2`, 3, inner, inner, rng);
      addBatchNorm(s, `${p}.bn3`, inner);
      addConv(s, `${p}.conv3`, 1, inner, outer, rng);
    }
    addLinear(s, 'head.fc', outer, outer, rng);
    addBatchNorm(s, 'head.bn', outer);
    addLinear(s, 'head.out', outer, classes, rng);
  }

  private w4(name: string): tf.Tensor4D {
    return this.store.get(name) as tf.Tensor4D;
  }
  private w2(name: string): tf.Tensor2D {
    return this.store.get(name) as tf.Tensor2D;
  }
  private b(name: string): tf.Tensor1D {
    return this.store.get(name) as tf.Tensor1D;
  }

  /** Pre-activation bottleneck: h + conv1x1(relu(bn(conv3x3(relu(bn(conv1x1(relu(bn(h))))))))). */
  private block(k: number, h: tf.Tensor4D, ctx: NormContext): tf.Tensor4D {
    const p = `blocks.${k}`;
    let t = batchNormRelu(this.store, `${p}.bn1`, h, ctx) as tf.Tensor4D;
    t = conv2d(t, this.w4(`${p}.conv1.w`), this.b(`${p}.conv1.b`), 'valid');
    t = batchNormRelu(this.store, `${p}.bn2`, t, ctx) as tf.Tensor4D;
    t = conv2d(t, this.w4(`${p}.conv2.w`), this.b(`${p}.conv2.b`), 'same');
    t = batchNormRelu(this.store, `${p}.bn3`, t, ctx) as tf.Tensor4D;
    t = conv2d(t, this.w4(`${p}.conv3.w`), this.b(`${p}.conv3.b`), 'valid');
    return tf.add(h, t);
  }

  /**
   * A plain block in its own scope: what autodiff does not save dies with the block, and without a tape
   * (calibration) everything but its output and its statistics does, so a deep network's train-mode forward
   * holds one block's activations at a time, not every block's.
   */
  private scopedBlock(k: number, h: tf.Tensor4D, rec: BatchStatsRecord[]): tf.Tensor4D {
    const own: BatchStatsRecord[] = [];
    const { y } = tf.tidy(() => {
      const out = this.block(k, h, { training: true, record: own });
      // returned, so they survive the scope: the records' statistics
      return { y: out, kept: own.flatMap((r) => [r.stats.mean, r.stats.variance]) };
    });
    rec.push(...own);
    return y;
  }

  /**
   * The block with activation checkpointing (src/tf/recompute.ts): only its input is kept for the backward
   * pass, which runs the block again, reusing the BatchNorm statistics of the first pass (so a data-parallel
   * step exchanges nothing more). Its statistics are recorded in `rec` as the plain block's are.
   */
  private recomputedBlock(k: number, h: tf.Tensor4D, rec: BatchStatsRecord[]): tf.Tensor4D {
    const measured: BatchStats[] = [];
    const segment = (x: tf.Tensor, replaying: boolean): tf.Tensor => {
      if (replaying) return this.block(k, x as tf.Tensor4D, { training: true, record: [], replay: [...measured] });
      const own: BatchStatsRecord[] = [];
      const y = this.block(k, x as tf.Tensor4D, { training: true, record: own });
      for (const r of own) {
        // they outlive the segment's tidy: the step frees them with the other records (disposeKept)
        tf.keep(r.stats.mean);
        tf.keep(r.stats.variance);
        measured.push(r.stats);
        rec.push(r);
      }
      return y;
    };
    return recomputed(segment, h, this.blockParams(k)) as tf.Tensor4D;
  }

  /** Block k's trainable weights (what a recomputed block takes gradients for). */
  private blockParams(k: number): tf.Variable[] {
    const p = `blocks.${k}.`;
    return [...this.store.params].filter(([name]) => name.startsWith(p)).map(([, v]) => v);
  }

  /** Shared head: global mean pool → z + BN(ReLU(Linear z)) → Linear. [B,H,W,C] → [B, classes]. */
  private head(h: tf.Tensor4D, training: boolean, rec: BatchStatsRecord[], depth: number): tf.Tensor2D {
    const z = globalMeanPool(h);
    const u = relu(linear(z, this.w2('head.fc.w'), this.b('head.fc.b')));
    const zz = tf.add(z, batchNorm(this.store, 'head.bn', u, { training, record: rec }, depth)) as tf.Tensor2D;
    return linear(zz, this.w2('head.out.w'), this.b('head.out.b'));
  }

  /** A BatchNorm in eval mode as an affine map: running statistics, or precise ones (at `depth` for the head). */
  private affine(prefix: string, precise: PreciseStats | undefined, depth?: number): Affine {
    const { mean, variance } = evalStats(this.store, prefix, precise, depth);
    return bnAffine(this.b(`${prefix}.gamma`), this.b(`${prefix}.beta`), mean, variance);
  }

  /** The block in eval mode: BN1+ReLU one pass, BN2 and BN3 folded into the convolutions before them. */
  private evalBlock(k: number, h: tf.Tensor4D, precise: PreciseStats | undefined): tf.Tensor4D {
    const p = `blocks.${k}`;
    let t = affineRelu(h, this.affine(`${p}.bn1`, precise));
    t = convAffineRelu(t, this.w4(`${p}.conv1.w`), this.b(`${p}.conv1.b`), this.affine(`${p}.bn2`, precise), 'valid');
    t = convAffineRelu(t, this.w4(`${p}.conv2.w`), this.b(`${p}.conv2.b`), this.affine(`${p}.bn3`, precise), 'same');
    t = convBias(t, this.w4(`${p}.conv3.w`), this.b(`${p}.conv3.b`), 'valid');
    return tf.add(h, t);
  }

  /** The head in eval mode (`bn`: head.bn's affine map; with precise statistics, that of this depth). */
  private evalHead(h: tf.Tensor4D, bn: Affine): tf.Tensor2D {
    const z = globalMeanPoolEval(h);
    const u = tf.fused.matMul({ a: z, b: this.w2('head.fc.w'), bias: this.b('head.fc.b'), activation: 'relu' });
    const zz = tf.add(z, tf.add(tf.mul(u, bn.scale), bn.shift)) as tf.Tensor2D;
    return tf.fused.matMul({ a: zz, b: this.w2('head.out.w'), bias: this.b('head.out.b') }) as tf.Tensor2D;
  }

  /**
   * Eval mode: the same function as the train-mode graph, in fewer, fused kernels. Running statistics
   * (one head.bn for every depth, as the reference) or precise ones (`o.stats`: head.bn per depth).
   */
  private evalForward(x: tf.Tensor, o: ForwardOptions): ForwardResult {
    return tf.tidy(() => {
      const outs: tf.Tensor2D[] = [];
      const shared = o.stats ? null : this.affine('head.bn', undefined);
      const head = (h: tf.Tensor4D, depth: number) => this.evalHead(h, shared ?? this.affine('head.bn', o.stats, depth));
      let h = tf.avgPool(convBias(x as tf.Tensor4D, this.w4('stem.w'), this.b('stem.b'), 'valid'), 2, 2, 'valid');
      if (o.heads === 'all') outs.push(head(h, 0));
      for (let k = 0; k < o.upTo; k++) {
        // one block's temporaries (and the previous activation) are freed as soon as it is done
        const prev = h;
        h = tf.tidy(() => this.evalBlock(k, prev, o.stats));
        prev.dispose();
        if (o.heads === 'all') outs.push(tf.tidy(() => head(h, k + 1)));
      }
      if (o.heads === 'last') outs.push(head(h, o.upTo));
      return { logits: tf.stack(outs) as tf.Tensor3D, batchStats: [] };
    });
  }

  forward(x: tf.Tensor, o: ForwardOptions): ForwardResult {
    if (!o.training) return this.evalForward(x, o);
    const rec: BatchStatsRecord[] = [];
    const outs: tf.Tensor2D[] = [];
    // x: [B, H, W, Cin] → [B, H', W', outer]
    let h = avgPool2(conv2d(x as tf.Tensor4D, this.w4('stem.w'), this.b('stem.b'), 'valid'));
    if (o.heads === 'all') outs.push(this.head(h, o.training, rec, 0));
    for (let k = 0; k < o.upTo; k++) {
      h = o.recompute ? this.recomputedBlock(k, h, rec) : this.scopedBlock(k, h, rec);
      if (o.heads === 'all') outs.push(this.head(h, o.training, rec, k + 1));
    }
    if (o.heads === 'last') outs.push(this.head(h, o.training, rec, o.upTo));
    return { logits: tf.stack(outs) as tf.Tensor3D, batchStats: rec }; // [H, B, C]
  }

  paramCount(depth: number): number {
    return countUpToDepth(this.store, depth);
  }
}

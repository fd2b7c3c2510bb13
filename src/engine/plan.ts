// The passes of the conv VDS ResNet as lists of dispatches, planned once per shape: every buffer, uniform
// and bind group is made here, and a step only replays the list (gpu.run). Three kinds of pass:
//   train      the all-depth forward in train mode (batch statistics), the ELBO, the backward pass, the SGD
//              update of the flat parameters and PyTorch's running-statistics update
//   calibrate  the train-mode forward alone: its batch statistics are what precise BatchNorm needs (SPEC §8)
//   eval       the eval-mode forward with statistics written into the statistics buffer beforehand
// Activations are NHWC. The train pass keeps every block's input and its two inner pre-BatchNorm maps for
// the backward pass (the ReLU'd activations are recomputed inside the kernels that read them); the other
// passes keep one block's worth.
import type { ConvResNetShape } from '../model/resnet.ts';
import type { Copy, Dispatch, Gpu, Step } from './gpu.ts';
import { FlatLayout, StatsLayout } from './layout.ts';
import { convFilterGradient, convForward, convInputGradient, DW_CHUNK, dwReduce, stemFilterGradient, stemForward } from './kernels/conv.ts';
import { bnBwdApply, bnBwdReduce, bnStats, RUNNING_ROW, runningUpdate } from './kernels/norm.ts';
import { headBnRes, linearDw, linearDx, linearFwd, poolBwd, poolMean } from './kernels/head.ts';
import { ceRows, dlogits, elbo, sgd } from './kernels/loss.ts';

/** Named activation buffers shared by every plan of an engine: a plan asks for a size; bigger ones replace smaller. */
export class Arena {
  private readonly buffers = new Map<string, { buffer: GPUBuffer; floats: number }>();
  constructor(private readonly gpu: Gpu) {}

  get(name: string, floats: number): GPUBuffer {
    const have = this.buffers.get(name);
    if (have && have.floats >= floats) return have.buffer;
    const buffer = this.gpu.buffer(floats, name);
    this.buffers.set(name, { buffer, floats });
    return buffer;
  }
}

/** What every plan of one engine shares. */
export interface PlanContext {
  gpu: Gpu;
  net: ConvResNetShape;
  input: [number, number, number]; // [H, W, C] of one example
  learnt: boolean;
  nTrain: number; // N in KL/N
  P: FlatLayout; // parameters, gradients, momentum
  R: FlatLayout; // running statistics
  params: GPUBuffer;
  grads: GPUBuffer;
  momentum: GPUBuffer;
  running: GPUBuffer;
  stats: GPUBuffer; // StatsLayout for every pass
  prior: GPUBuffer; // log p over the heads
  arena: Arena;
}

export type PassKind = 'train' | 'calibrate' | 'eval';

export interface Pass {
  kind: PassKind;
  B: number;
  upTo: number;
  heads: 'all' | 'last';
  H: number; // heads computed
  steps: Step[];
  dispatches: number;
  x: GPUBuffer; // [B, H, W, C] input
  labels: GPUBuffer | null; // [B] (train)
  logits: GPUBuffer; // [H, B, classes]
  record: GPUBuffer | null; // [loss, E_q NLL, KL, hits] (train)
  sgd: Dispatch | null; // whose uniforms carry the learning rate (train)
  S: StatsLayout;
}

/** The spatial sizes after the input block: valid 5×5 conv, then a 2×2 average pool. */
export function pooledSize(input: [number, number, number]): [number, number] {
  return [Math.floor((input[0] - 4) / 2), Math.floor((input[1] - 4) / 2)];
}

export function buildPass(ctx: PlanContext, kind: PassKind, B: number, upTo: number, heads: 'all' | 'last'): Pass {
  const { gpu, net, P, arena } = ctx;
  const { outerWidth: O, innerWidth: I, classes: K } = net;
  const [Hin, Win, Ci] = ctx.input;
  const [Hp, Wp] = pooledSize(ctx.input);
  const HW = Hp * Wp;
  const M = B * HW;
  const H = heads === 'all' ? upTo + 1 : 1;
  const S = new StatsLayout(net, heads === 'all' ? net.maxDepth + 1 : 1);
  const train = kind === 'train';
  const batchStats = kind !== 'eval';
  const steps: Step[] = [];
  const p = ctx.params;
  const st = ctx.stats;
  const at = (name: string) => P.at(name);

  const x = arena.get('x', B * Hin * Win * Ci);
  // train keeps every block's tensors; the other passes alternate between two sets
  const hBuf = (k: number) => arena.get(train ? `h${k}` : `h${k % 2}`, M * O);
  const c1Buf = (k: number) => arena.get(train ? `c1.${k}` : 'c1', M * I);
  const c2Buf = (k: number) => arena.get(train ? `c2.${k}` : 'c2', M * I);
  const z = arena.get('z', H * B * O);
  const uu = arena.get('u', H * B * O);
  const zz = arena.get('zz', H * B * O);
  const logits = arena.get('logits', H * B * K);

  // each convolution in the highest version its widths allow (kernels/conv.ts)
  const stem = stemForward(O, M);
  steps.push(gpu.dispatch(stem.kernel, { B, Hin, Win, Ci, Hp, Wp, Co: O, K: 5, wOff: at('stem.w'), bOff: at('stem.b') }, [x, p, hBuf(0)], { threads: stem.threads }));
  const pool = (k: number, slot: number) => steps.push(gpu.dispatch(poolMean, { B, HW, C: O, oOff: slot * B * O }, [hBuf(k), z], { threads: B * O }));
  if (heads === 'all') pool(0, 0);
  for (let k = 0; k < upTo; k++) {
    const pre = `blocks.${k}`;
    const ins = [hBuf(k), c1Buf(k), c2Buf(k)];
    const outs = [c1Buf(k), c2Buf(k), hBuf(k + 1)];
    for (let j = 0; j < 3; j++) {
      const Cin = S.channels(j);
      if (batchStats) steps.push(gpu.dispatch(bnStats, { G: 1, N: M, C: Cin, oOff: S.block(k, j), pre: 0 }, [ins[j], st], { groups: Cin }));
      const conv = `${pre}.conv${j + 1}`;
      const bn = `${pre}.bn${j + 1}`;
      const Co = j === 2 ? O : I;
      const kk = j === 1 ? 3 : 1;
      const fwd = convForward(Cin, Co, M);
      steps.push(
        gpu.dispatch(
          fwd.kernel,
          { B, H: Hp, W: Wp, Ci: Cin, Co, K: kk, pad: j === 1 ? 1 : 0, wOff: at(`${conv}.w`), bOff: at(`${conv}.b`), act: 1, sOff: S.block(k, j), gOff: at(`${bn}.gamma`), beOff: at(`${bn}.beta`), res: j === 2 ? 1 : 0 },
          [ins[j], p, st, hBuf(k), outs[j]],
          { threads: fwd.threads },
        ),
      );
    }
    if (heads === 'all') pool(k + 1, k + 1);
  }
  if (heads === 'last') pool(upTo, 0);
  // the head, every depth at once: rows are (depth, example)
  const rows = H * B;
  steps.push(gpu.dispatch(linearFwd, { M: rows, K: O, N: O, wOff: at('head.fc.w'), bOff: at('head.fc.b') }, [z, p, uu], { threads: rows * O }));
  if (batchStats) steps.push(gpu.dispatch(bnStats, { G: H, N: B, C: O, oOff: S.head, pre: 1 }, [uu, st], { groups: H * O }));
  const headBn = { gOff: at('head.bn.gamma'), beOff: at('head.bn.beta') };
  steps.push(gpu.dispatch(headBnRes, { G: H, N: B, C: O, sOff: S.head, ...headBn }, [z, uu, p, st, zz], { threads: rows * O }));
  steps.push(gpu.dispatch(linearFwd, { M: rows, K: O, N: K, wOff: at('head.out.w'), bOff: at('head.out.b') }, [zz, p, logits], { threads: rows * K }));

  const pass: Pass = { kind, B, upTo, heads, H, steps, dispatches: 0, x, labels: null, logits, record: null, sgd: null, S };
  if (train) backward(ctx, pass, { hBuf, c1Buf, c2Buf, z, uu, zz, M, HW, Hp, Wp });
  pass.dispatches = steps.filter((s) => !(s as Copy).from).length;
  return pass;
}

interface Kept {
  hBuf: (k: number) => GPUBuffer;
  c1Buf: (k: number) => GPUBuffer;
  c2Buf: (k: number) => GPUBuffer;
  z: GPUBuffer;
  uu: GPUBuffer;
  zz: GPUBuffer;
  M: number;
  HW: number;
  Hp: number;
  Wp: number;
}

/** The ELBO, the backward pass, the SGD update and the running statistics, appended to a train pass. */
function backward(ctx: PlanContext, pass: Pass, kept: Kept): void {
  const { gpu, net, P, R, arena, params: p, grads: gr, stats: st } = ctx;
  const { outerWidth: O, innerWidth: I, classes: K } = net;
  const { B, H, upTo: D, S, steps } = pass;
  const { hBuf, c1Buf, c2Buf, z, uu, zz, M, HW, Hp, Wp } = kept;
  const at = (name: string) => P.at(name);
  const rows = H * B;

  const labels = arena.get('labels', B);
  const lsm = arena.get('lsm', rows * K);
  const nll = arena.get('nll', H);
  const qb = arena.get('q', H);
  const record = arena.get('record', 4);
  const dl = arena.get('dlogits', rows * K);
  steps.push(gpu.dispatch(ceRows, { B, K }, [pass.logits, labels, lsm, nll], { groups: H }));
  steps.push(gpu.dispatch(elbo, { H, B, K, learnt: ctx.learnt ? 1 : 0, aOff: ctx.learnt ? at('q.alpha') : 0, f_nTrain: ctx.nTrain }, [p, ctx.prior, nll, lsm, labels, gr, qb, record], { groups: 1 }));
  steps.push(gpu.dispatch(dlogits, { H, B, K }, [lsm, labels, qb, dl], { threads: rows * K }));

  // head backward: out layer, BatchNorm (through the ReLU before it), fc layer; dz = dzz + fc's input gradient
  const dzz = arena.get('dzz', rows * O);
  const du = arena.get('du', rows * O);
  const dz = arena.get('dz', rows * O);
  const sums = arena.get('bnsums', Math.max(H, 1) * 2 * Math.max(O, I));
  // the head's weight gradients: partial sums over chunks of (depth, example) rows, then the chunks in order
  const headParts = Math.ceil(rows / DW_CHUNK);
  const headPart = arena.get('head-dw-partials', (O + 1) * Math.max(K, O) * headParts);
  const headDw = (inp: GPUBuffer, dout: GPUBuffer, N: number, layer: string): void => {
    steps.push(gpu.dispatch(linearDw, { M: rows, K: O, N, chunk: DW_CHUNK, parts: headParts }, [inp, dout, headPart], { threads: (O + 1) * N * headParts }));
    steps.push(gpu.dispatch(dwReduce, { per: (O + 1) * N, Co: N, parts: headParts, wOff: at(`${layer}.w`), bOff: at(`${layer}.b`) }, [headPart, gr], { threads: (O + 1) * N }));
  };
  headDw(zz, dl, K, 'head.out');
  steps.push(gpu.dispatch(linearDx, { M: rows, K: O, N: K, wOff: at('head.out.w'), base: 0 }, [dl, p, dl, dzz], { threads: rows * O }));
  const headBn = { sOff: S.head, gOff: at('head.bn.gamma'), beOff: at('head.bn.beta'), pre: 1, post: 0 };
  steps.push(gpu.dispatch(bnBwdReduce, { G: H, N: B, C: O, ...headBn, dgOff: at('head.bn.gamma'), dbOff: at('head.bn.beta') }, [uu, dzz, p, st, sums, gr], { groups: O }));
  steps.push(gpu.dispatch(bnBwdApply, { G: H, N: B, C: O, ...headBn, base: 0, head: 0, hOff: 0, HW: 1 }, [uu, dzz, p, st, sums, dzz, dzz, du], { threads: rows * O }));
  headDw(z, du, O, 'head.fc');
  steps.push(gpu.dispatch(linearDx, { M: rows, K: O, N: O, wOff: at('head.fc.w'), base: 1 }, [du, p, dzz, dz], { threads: rows * O }));

  // the last block's output gets only its head's gradient; each earlier one also the residual path's
  const dh = [arena.get('dh0', M * O), arena.get('dh1', M * O)];
  const dt = arena.get('dt', M * Math.max(O, I));
  const dc = arena.get('dc', M * I);
  const lastSlot = pass.heads === 'all' ? D : 0;
  // weight gradients are summed in chunks of positions, then the chunks in order (kernels/conv.ts)
  const parts = Math.ceil(M / DW_CHUNK);
  const [Hin, Win, Ci] = ctx.input;
  const widestRows = Math.max((9 * I + 1) * I, (O + 1) * I, (I + 1) * O, (25 * Ci + 1) * O);
  const dwPart = arena.get('dw-partials', widestRows * parts);
  steps.push(gpu.dispatch(poolBwd, { B, HW, C: O, zOff: lastSlot * B * O }, [dz, dh[D % 2]], { threads: M * O }));
  for (let k = D - 1; k >= 0; k--) {
    const pre = `blocks.${k}`;
    const dOut = dh[(k + 1) % 2];
    const ins = [hBuf(k), c1Buf(k), c2Buf(k)];
    // walking back through conv3, conv2, conv1: the gradient at conv j's output is gOut
    let gOut = dOut;
    for (let j = 2; j >= 0; j--) {
      const Cin = S.channels(j);
      const Co = j === 2 ? O : I;
      const kk = j === 1 ? 3 : 1;
      const pad = j === 1 ? 1 : 0;
      const conv = `${pre}.conv${j + 1}`;
      const bn = `${pre}.bn${j + 1}`;
      const bnVals = { sOff: S.block(k, j), gOff: at(`${bn}.gamma`), beOff: at(`${bn}.beta`) };
      const shape = { B, H: Hp, W: Wp, Ci: Cin, Co, K: kk, pad };
      const per = (kk * kk * Cin + 1) * Co;
      const dw = convFilterGradient(Cin, Co, kk, parts);
      steps.push(gpu.dispatch(dw.kernel, { ...shape, act: 1, ...bnVals, chunk: DW_CHUNK, parts }, [ins[j], gOut, p, st, dwPart], { threads: dw.threads }));
      steps.push(gpu.dispatch(dwReduce, { per, Co, parts, wOff: at(`${conv}.w`), bOff: at(`${conv}.b`) }, [dwPart, gr], { threads: per }));
      const dx = convInputGradient(Cin, M);
      steps.push(gpu.dispatch(dx.kernel, { ...shape, wOff: at(`${conv}.w`) }, [gOut, p, dt], { threads: dx.threads }));
      const norm = { G: 1, N: M, C: Cin, ...bnVals, pre: 0, post: 1 };
      steps.push(gpu.dispatch(bnBwdReduce, { ...norm, dgOff: at(`${bn}.gamma`), dbOff: at(`${bn}.beta`) }, [ins[j], dt, p, st, sums, gr], { groups: Cin }));
      if (j > 0) {
        steps.push(gpu.dispatch(bnBwdApply, { ...norm, base: 0, head: 0, hOff: 0, HW }, [ins[j], dt, p, st, sums, dt, dt, dc], { threads: M * Cin }));
        gOut = dc;
      } else {
        // block input: the residual path's gradient, the block's, and (every depth has a head) its head's
        const head = pass.heads === 'all' ? 1 : 0;
        steps.push(gpu.dispatch(bnBwdApply, { ...norm, base: 1, head, hOff: k * B * O, HW }, [ins[0], dt, p, st, sums, dOut, dz, dh[k % 2]], { threads: M * O }));
      }
    }
  }
  const stemPer = (25 * Ci + 1) * O;
  const stemDw = stemFilterGradient(O, stemPer, parts);
  steps.push(gpu.dispatch(stemDw.kernel, { B, Hin, Win, Ci, Hp, Wp, Co: O, K: 5, chunk: DW_CHUNK, parts }, [pass.x, dh[0], dwPart], { threads: stemDw.threads }));
  steps.push(gpu.dispatch(dwReduce, { per: stemPer, Co: O, parts, wOff: at('stem.w'), bOff: at('stem.b') }, [dwPart, gr], { threads: stemPer }));

  const update = gpu.dispatch(sgd, { P: P.size, f_lr: 0, f_momentum: 0, f_wd: 0 }, [gr, ctx.momentum, p], { threads: P.size });
  steps.push(update);
  steps.push(runningStep(ctx, S, D, H, M, B));
  pass.labels = labels;
  pass.record = record;
  pass.sgd = update;
}

/** PyTorch's running-statistics update of every BatchNorm the pass ran (the head's once per depth, in order). */
function runningStep(ctx: PlanContext, S: StatsLayout, D: number, H: number, M: number, B: number): Dispatch {
  const rows: number[] = [];
  for (let k = 0; k < D; k++) {
    for (let j = 0; j < 3; j++) rows.push(S.block(k, j), ctx.R.at(`blocks.${k}.bn${j + 1}.runningMean`), S.channels(j), 1, M / (M - 1));
  }
  rows.push(S.head, ctx.R.at('head.bn.runningMean'), ctx.net.outerWidth, H, B / (B - 1));
  const table = ctx.gpu.buffer(rows.length, 'running-table');
  ctx.gpu.write(table, 0, Float32Array.from(rows));
  return ctx.gpu.dispatch(runningUpdate, { rows: rows.length / RUNNING_ROW }, [table, ctx.stats, ctx.running], { groups: rows.length / RUNNING_ROW });
}

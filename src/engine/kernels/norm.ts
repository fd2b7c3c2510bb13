// BatchNorm in train mode, for the blocks (one application each) and the shared head (one per depth: G groups
// of N rows). Activations are [G, N, C] (NHWC flattened: N = B·H·W, or B for the head).
//   bn_stats        mean and biased variance of each (group, channel): one workgroup per pair, a strided
//                   sum per thread, then a tree in workgroup memory: a fixed order, the same bits every run.
//                   Two passes (mean, then squared deviations), as a framework's moments.
//   bn_bwd_reduce   Σ dy and Σ dy·x̂ per (group, channel) — dy the gradient at the BatchNorm's output, masked
//                   by the ReLU after it when there is one — and from them γ's and β's gradients, summed over
//                   groups in depth order (one workgroup per channel).
//   bn_bwd_apply    dx = γ·rstd/N·(N·dy − Σdy − x̂·Σdy·x̂), through the ReLU before the BatchNorm when there is
//                   one (the head's), plus a base gradient (the residual path) and the head's pooled gradient
//                   broadcast over positions (a block output is also the input of the head at its depth).
//   running_update  PyTorch's running statistics: run ← 0.9·run + 0.1·batch, unbiased variance, the head's
//                   once per depth in depth order. A table says where each BatchNorm's statistics are.
// `pre`: a ReLU between the stored tensor and the BatchNorm (the head); `post`: a ReLU after it (the blocks).
import type { KernelDef } from '../kernel.ts';

const RWG = 64; // threads of a reduction workgroup (more made SwiftShader slower at its barriers; a GPU runs one workgroup per channel either way)

const TREE = (v: string) => `
  sh[t] = ${v};
  workgroupBarrier();
  for (var s = ${RWG / 2}u; s > 0u; s = s >> 1u) {
    if (t < s) { sh[t] = sh[t] + sh[t + s]; }
    workgroupBarrier();
  }`;

export const bnStats: KernelDef = {
  name: 'bn_stats',
  uniforms: ['G', 'N', 'C', 'oOff', 'pre'],
  bindings: [['inp', 'read'], ['st', 'rw']],
  workgroup: RWG,
  body: `
var<workgroup> sh: array<f32, ${RWG}>;
fn v(k: u32) -> f32 { let x = inp[k]; if (u.pre != 0u) { return max(x, 0.0); } return x; }
@compute @workgroup_size(${RWG}) fn main(@builtin(workgroup_id) w: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>) {
  let t = l.x;
  let c = w.x % u.C;
  let grp = w.x / u.C;
  let base = grp * u.N * u.C + c;
  var acc = 0.0;
  for (var k = t; k < u.N; k += ${RWG}u) { acc += v(base + k * u.C); }
  ${TREE('acc')}
  let mean = sh[0] / f32(u.N);
  workgroupBarrier();
  var dev = 0.0;
  for (var k = t; k < u.N; k += ${RWG}u) { let d = v(base + k * u.C) - mean; dev += d * d; }
  ${TREE('dev')}
  if (t == 0u) {
    st[u.oOff + grp * 2u * u.C + c] = mean;
    st[u.oOff + grp * 2u * u.C + u.C + c] = sh[0] / f32(u.N);
  }
}`,
};

// x̂ and the BatchNorm's output y of element k in group grp, channel c
const XHAT = `
fn xin(k: u32) -> f32 { let x = inp[k]; if (u.pre != 0u) { return max(x, 0.0); } return x; }
fn xhat(k: u32, grp: u32, c: u32) -> f32 {
  let so = u.sOff + grp * 2u * u.C;
  return (xin(k) - st[so + c]) * inverseSqrt(st[so + u.C + c] + EPS);
}
fn dy(k: u32, xh: f32, c: u32) -> f32 {
  let g = dout[k];
  if (u.post != 0u && xh * p[u.gOff + c] + p[u.beOff + c] <= 0.0) { return 0.0; }
  return g;
}`;

export const bnBwdReduce: KernelDef = {
  name: 'bn_bwd_reduce',
  uniforms: ['G', 'N', 'C', 'sOff', 'gOff', 'beOff', 'pre', 'post', 'dgOff', 'dbOff'],
  bindings: [['inp', 'read'], ['dout', 'read'], ['p', 'read'], ['st', 'read'], ['sums', 'rw'], ['gr', 'rw']],
  workgroup: RWG,
  body: `
var<workgroup> sh: array<f32, ${RWG}>;
${XHAT}
@compute @workgroup_size(${RWG}) fn main(@builtin(workgroup_id) w: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>) {
  let t = l.x;
  let c = w.x;
  var dgamma = 0.0;
  var dbeta = 0.0;
  for (var grp = 0u; grp < u.G; grp++) {
    let base = grp * u.N * u.C + c;
    var a = 0.0;
    var b = 0.0;
    for (var k = t; k < u.N; k += ${RWG}u) {
      let idx = base + k * u.C;
      let xh = xhat(idx, grp, c);
      let d = dy(idx, xh, c);
      a += d;
      b += d * xh;
    }
    ${TREE('a')}
    let sa = sh[0];
    workgroupBarrier();
    ${TREE('b')}
    let sb = sh[0];
    workgroupBarrier();
    if (t == 0u) {
      sums[grp * 2u * u.C + c] = sa;
      sums[grp * 2u * u.C + u.C + c] = sb;
    }
    dbeta += sa;
    dgamma += sb;
  }
  if (t == 0u) {
    gr[u.dgOff + c] = dgamma;
    gr[u.dbOff + c] = dbeta;
  }
}`,
};

export const bnBwdApply: KernelDef = {
  name: 'bn_bwd_apply',
  // base: add base[i]; head: add hz[hOff + b·C + c] / HW (b = the row's example, HW positions per example)
  uniforms: ['G', 'N', 'C', 'sOff', 'gOff', 'beOff', 'pre', 'post', 'base', 'head', 'hOff', 'HW'],
  bindings: [['inp', 'read'], ['dout', 'read'], ['p', 'read'], ['st', 'read'], ['sums', 'read'], ['basein', 'read'], ['hz', 'read'], ['dx', 'rw']],
  workgroup: 64,
  body: `${XHAT}
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>) {
  let i = gi(g, n);
  if (i >= u.G * u.N * u.C) { return; }
  let c = i % u.C;
  let grp = i / (u.N * u.C);
  let so = u.sOff + grp * 2u * u.C;
  let rstd = inverseSqrt(st[so + u.C + c] + EPS);
  let xh = xhat(i, grp, c);
  let d = dy(i, xh, c);
  let nf = f32(u.N);
  let sa = sums[grp * 2u * u.C + c];
  let sb = sums[grp * 2u * u.C + u.C + c];
  var dxv = p[u.gOff + c] * rstd / nf * (nf * d - sa - xh * sb);
  if (u.pre != 0u && inp[i] <= 0.0) { dxv = 0.0; }
  if (u.base != 0u) { dxv += basein[i]; }
  if (u.head != 0u) {
    let b = (i / u.C) / u.HW;
    dxv += hz[u.hOff + b * u.C + c] / f32(u.HW);
  }
  dx[i] = dxv;
}`,
};

/** Table rows of running_update, as f32 values (integers exact below 2^24): stats offset, running offset, channels, repeats, n/(n−1). */
export const RUNNING_ROW = 5;

export const runningUpdate: KernelDef = {
  name: 'running_update',
  uniforms: ['rows'],
  bindings: [['table', 'read'], ['st', 'read'], ['run', 'rw']],
  workgroup: 64,
  body: `
@compute @workgroup_size(64) fn main(@builtin(workgroup_id) w: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>) {
  let row = w.x * 5u;
  let sOff = u32(table[row]);
  let rOff = u32(table[row + 1u]);
  let C = u32(table[row + 2u]);
  let reps = u32(table[row + 3u]);
  let unbias = table[row + 4u];
  for (var c = l.x; c < C; c += 64u) {
    var m = run[rOff + c];
    var v = run[rOff + C + c];
    for (var r = 0u; r < reps; r++) {
      let so = sOff + r * 2u * C;
      m = m * 0.9 + st[so + c] * 0.1;
      v = v * 0.9 + (st[so + C + c] * unbias) * 0.1;
    }
    run[rOff + c] = m;
    run[rOff + C + c] = v;
  }
}`,
};

// ---- plain references ----

/** Mean and biased variance per (group, channel) of [G, N, C] (after a ReLU when `pre`): [G][mean C | var C]. */
export function bnStatsRef(x: ArrayLike<number>, G: number, N: number, C: number, pre: boolean): Float64Array {
  const out = new Float64Array(G * 2 * C);
  const v = (k: number) => (pre ? Math.max(0, x[k]) : x[k]);
  for (let g = 0; g < G; g++)
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let n = 0; n < N; n++) s += v((g * N + n) * C + c);
      const mean = s / N;
      let d = 0;
      for (let n = 0; n < N; n++) d += (v((g * N + n) * C + c) - mean) ** 2;
      out[g * 2 * C + c] = mean;
      out[g * 2 * C + C + c] = d / N;
    }
  return out;
}

/**
 * The gradient through (ReLU →) BatchNorm (→ ReLU) in train mode, by the textbook formula, with γ's and β's
 * gradients summed over groups.
 */
export function bnBackwardRef(
  x: ArrayLike<number>,
  dout: ArrayLike<number>,
  G: number,
  N: number,
  C: number,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  pre: boolean,
  post: boolean,
): { dx: Float64Array; dgamma: Float64Array; dbeta: Float64Array } {
  const stats = bnStatsRef(x, G, N, C, pre);
  const dx = new Float64Array(G * N * C);
  const dgamma = new Float64Array(C);
  const dbeta = new Float64Array(C);
  for (let g = 0; g < G; g++)
    for (let c = 0; c < C; c++) {
      const mean = stats[g * 2 * C + c];
      const rstd = 1 / Math.sqrt(stats[g * 2 * C + C + c] + 1e-5);
      const xh: number[] = [];
      const dy: number[] = [];
      let sa = 0;
      let sb = 0;
      for (let n = 0; n < N; n++) {
        const k = (g * N + n) * C + c;
        const h = ((pre ? Math.max(0, x[k]) : x[k]) - mean) * rstd;
        const d = post && h * gamma[c] + beta[c] <= 0 ? 0 : dout[k];
        xh.push(h);
        dy.push(d);
        sa += d;
        sb += d * h;
      }
      dgamma[c] += sb;
      dbeta[c] += sa;
      for (let n = 0; n < N; n++) {
        const k = (g * N + n) * C + c;
        const v = ((gamma[c] * rstd) / N) * (N * dy[n] - sa - xh[n] * sb);
        dx[k] = pre && x[k] <= 0 ? 0 : v;
      }
    }
  return { dx, dgamma, dbeta };
}

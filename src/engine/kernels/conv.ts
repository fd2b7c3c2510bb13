// Convolutions of the VDS ResNet, NHWC activations, HWIO weights (TF.js's layouts), stride 1.
//   stem_fwd  the input block: 5×5 valid conv + bias, then 2×2 average pool, fused (the pool is linear:
//             bias + ¼·Σ of the four windows' sums); the un-pooled map is never stored.
//   conv_fwd  k×k conv (pad 0 or 1) + bias; its input optionally through BatchNorm + ReLU first (the block's
//             pre-activation, so that activation is never stored) and a residual added to its output.
//   conv_dx   the input gradient: the transposed convolution of the output gradient.
//   conv_dw   weight and bias gradients (the bias as one more input row). One thread per weight looping over
//             every position of the batch left a large GPU mostly idle (a few thousand threads, each tens of
//             thousands of steps long), so the positions are split into chunks: one thread per (chunk,
//             weight) writes a partial sum, and dw_reduce adds the chunks in order — no atomics, the same
//             bits every run.
//   stem_dw   the stem's weight and bias gradients through the pool, split the same way.
//   dw_reduce the chunks' partial sums, added in chunk order, into the gradient buffer (weights, then bias).
// Each convolution comes in versions that compute the same terms in the same order (the same bits, tested):
// version 1 one output a thread (any width); version 2 four channels a thread (widths multiples of 4);
// version 3 a 4×4 register tile a thread (conv_fwd, conv_dw, conv_dx: both widths multiples of 4). plan.ts
// takes the highest a layer's widths allow. Shapes are fixed uniforms: a pipeline per layer shape.
// The others: one thread per output, plain loops. Beside each, the plain reference the tests run.
import type { KernelDef } from '../kernel.ts';

/** The most input channels a convolution with BatchNorm + ReLU on its input takes (its affine map is held in workgroup memory, 16 KiB at most). */
export const MAX_ACT_CHANNELS = 1024;

// BatchNorm + ReLU of input channel ci as an affine map held in workgroup memory: each workgroup computes
// scale = γ·rsqrt(var + eps) and shift = β − mean·scale once for every channel, so the inner loop does one
// multiply-add and a max per input value instead of four loads and a square root. The arrays are sized by
// the layer's Ci (a fixed uniform): WebGPU zero-fills a workgroup's memory before the kernel runs, and
// arrays sized for the widest layer made that fill cost more than the convolution of a narrow one.
const ACT = `
var<workgroup> scale: array<f32, u.Ci>;
var<workgroup> shift: array<f32, u.Ci>;
fn load_act(t: u32) {
  if (u.act != 0u) {
    for (var c = t; c < u.Ci; c += 64u) {
      let sc = inverseSqrt(st[u.sOff + u.Ci + c] + EPS) * p[u.gOff + c];
      scale[c] = sc;
      shift[c] = p[u.beOff + c] - st[u.sOff + c] * sc;
    }
  }
  workgroupBarrier();
}
fn act(v: f32, ci: u32) -> f32 {
  if (u.act == 0u) { return v; }
  return max(v * scale[ci] + shift[ci], 0.0);
}`;

// entry point of a kernel that uses act(): the grid index, after the workgroup loaded the affine maps
const ACT_MAIN = '@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>, @builtin(local_invocation_index) t: u32)';

export const stemFwd: KernelDef = {
  name: 'stem_fwd',
  fixed: ['Hin', 'Win', 'Ci', 'Hp', 'Wp', 'Co', 'K'],
  uniforms: ['B', 'Hin', 'Win', 'Ci', 'Hp', 'Wp', 'Co', 'K', 'wOff', 'bOff'],
  bindings: [['x', 'read'], ['p', 'read'], ['out', 'rw']],
  workgroup: 64,
  body: `
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>) {
  let i = gi(g, n);
  if (i >= u.B * u.Hp * u.Wp * u.Co) { return; }
  let co = i % u.Co;
  var r = i / u.Co;
  let px = r % u.Wp; r = r / u.Wp;
  let py = r % u.Hp;
  let b = r / u.Hp;
  // the four windows of the pool side by side (a vec4 over them): each weight is loaded once for all four,
  // and each window's sum runs over (ky, kx, ci) as the convolution before the pool would sum it
  var acc = vec4<f32>(0.0);
  for (var ky = 0u; ky < u.K; ky++) {
    for (var kx = 0u; kx < u.K; kx++) {
      let base = ((b * u.Hin + 2u * py + ky) * u.Win + 2u * px + kx) * u.Ci;
      let wb = u.wOff + (ky * u.K + kx) * u.Ci * u.Co + co;
      for (var ci = 0u; ci < u.Ci; ci++) {
        let w = p[wb + ci * u.Co];
        acc += w * vec4<f32>(x[base + ci], x[base + u.Ci + ci], x[base + u.Win * u.Ci + ci], x[base + (u.Win + 1u) * u.Ci + ci]);
      }
    }
  }
  out[i] = p[u.bOff + co] + (acc.x + acc.y + acc.z + acc.w) * 0.25;
}`,
};

export const convFwd: KernelDef = {
  name: 'conv_fwd',
  fixed: ['H', 'W', 'Ci', 'Co', 'K', 'pad', 'act', 'res'],
  uniforms: ['B', 'H', 'W', 'Ci', 'Co', 'K', 'pad', 'wOff', 'bOff', 'act', 'sOff', 'gOff', 'beOff', 'res'],
  bindings: [['inp', 'read'], ['p', 'read'], ['st', 'read'], ['resid', 'read'], ['out', 'rw']],
  workgroup: 64,
  body: `${ACT}
${ACT_MAIN} {
  load_act(t);
  let i = gi(g, n);
  if (i >= u.B * u.H * u.W * u.Co) { return; }
  let co = i % u.Co;
  var r = i / u.Co;
  let x = r % u.W; r = r / u.W;
  let y = r % u.H;
  let b = r / u.H;
  var acc = 0.0;
  for (var ky = 0u; ky < u.K; ky++) {
    let iy = i32(y + ky) - i32(u.pad);
    if (iy < 0 || iy >= i32(u.H)) { continue; }
    for (var kx = 0u; kx < u.K; kx++) {
      let ix = i32(x + kx) - i32(u.pad);
      if (ix < 0 || ix >= i32(u.W)) { continue; }
      let base = ((b * u.H + u32(iy)) * u.W + u32(ix)) * u.Ci;
      let wb = u.wOff + (ky * u.K + kx) * u.Ci * u.Co + co;
      for (var ci = 0u; ci < u.Ci; ci++) { acc += act(inp[base + ci], ci) * p[wb + ci * u.Co]; }
    }
  }
  var o = acc + p[u.bOff + co];
  if (u.res != 0u) { o += resid[i]; }
  out[i] = o;
}`,
};

export const convDx: KernelDef = {
  name: 'conv_dx',
  fixed: ['H', 'W', 'Ci', 'Co', 'K', 'pad'],
  uniforms: ['B', 'H', 'W', 'Ci', 'Co', 'K', 'pad', 'wOff'],
  bindings: [['dout', 'read'], ['p', 'read'], ['dx', 'rw']],
  workgroup: 64,
  body: `
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>) {
  let i = gi(g, n);
  if (i >= u.B * u.H * u.W * u.Ci) { return; }
  let ci = i % u.Ci;
  var r = i / u.Ci;
  let x = r % u.W; r = r / u.W;
  let y = r % u.H;
  let b = r / u.H;
  var acc = 0.0;
  for (var ky = 0u; ky < u.K; ky++) {
    let oy = i32(y + u.pad) - i32(ky);
    if (oy < 0 || oy >= i32(u.H)) { continue; }
    for (var kx = 0u; kx < u.K; kx++) {
      let ox = i32(x + u.pad) - i32(kx);
      if (ox < 0 || ox >= i32(u.W)) { continue; }
      let base = ((b * u.H + u32(oy)) * u.W + u32(ox)) * u.Co;
      let wb = u.wOff + ((ky * u.K + kx) * u.Ci + ci) * u.Co;
      for (var co = 0u; co < u.Co; co++) { acc += dout[base + co] * p[wb + co]; }
    }
  }
  dx[i] = acc;
}`,
};

// The weight-gradient kernels' version 1 (conv_dw, stem_dw): thread j takes chunk pt of the positions
// [m0, m1), output channel co and row r of the gradient; the bias row (r = rows) is summed and written here,
// and a weight row's input channel ci and kernel tap (ky, kx) are decoded for the kernel's own loop.
const DW1_HEAD = (positions: string): string => `
  let rows = u.K * u.K * u.Ci;
  let per = (rows + 1u) * u.Co;
  if (j >= per * u.parts) { return; }
  let pt = j / per;
  let co = j % u.Co;
  let r = (j % per) / u.Co;
  let m0 = pt * u.chunk;
  let m1 = min(m0 + u.chunk, ${positions});
  var acc = 0.0;
  if (r == rows) {
    for (var m = m0; m < m1; m++) { acc += dout[m * u.Co + co]; }
    part[j] = acc;
    return;
  }
  let ci = r % u.Ci;
  let kk = r / u.Ci;
  let kx = kk % u.K;
  let ky = kk / u.K;`;

export const convDw: KernelDef = {
  name: 'conv_dw',
  fixed: ['H', 'W', 'Ci', 'Co', 'K', 'pad', 'act', 'chunk'],
  // partial sums over positions [part·chunk, (part+1)·chunk) of the batch, for every weight row and the bias
  uniforms: ['B', 'H', 'W', 'Ci', 'Co', 'K', 'pad', 'act', 'sOff', 'gOff', 'beOff', 'chunk', 'parts'],
  bindings: [['inp', 'read'], ['dout', 'read'], ['p', 'read'], ['st', 'read'], ['part', 'rw']],
  workgroup: 64,
  body: `${ACT}
${ACT_MAIN} {
  load_act(t);
  let j = gi(g, n);
${DW1_HEAD('u.B * u.H * u.W')}
  for (var m = m0; m < m1; m++) {
    let x = m % u.W;
    let y = (m / u.W) % u.H;
    let b = m / (u.W * u.H);
    let iy = i32(y + ky) - i32(u.pad);
    let ix = i32(x + kx) - i32(u.pad);
    if (iy < 0 || iy >= i32(u.H) || ix < 0 || ix >= i32(u.W)) { continue; }
    let v = act(inp[((b * u.H + u32(iy)) * u.W + u32(ix)) * u.Ci + ci], ci);
    acc += v * dout[m * u.Co + co];
  }
  part[j] = acc;
}`,
};

export const stemDw: KernelDef = {
  name: 'stem_dw',
  fixed: ['Hin', 'Win', 'Ci', 'Hp', 'Wp', 'Co', 'K', 'chunk'],
  uniforms: ['B', 'Hin', 'Win', 'Ci', 'Hp', 'Wp', 'Co', 'K', 'chunk', 'parts'],
  bindings: [['x', 'read'], ['dout', 'read'], ['part', 'rw']],
  workgroup: 64,
  body: `
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>) {
  let j = gi(g, n);
${DW1_HEAD('u.B * u.Hp * u.Wp')}
  for (var m = m0; m < m1; m++) {
    let px = m % u.Wp;
    let py = (m / u.Wp) % u.Hp;
    let b = m / (u.Wp * u.Hp);
    var s = 0.0;
    for (var d = 0u; d < 4u; d++) {
      let yy = 2u * py + d / 2u + ky;
      let xx = 2u * px + d % 2u + kx;
      s += x[((b * u.Hin + yy) * u.Win + xx) * u.Ci + ci];
    }
    acc += s * 0.25 * dout[m * u.Co + co];
  }
  part[j] = acc;
}`,
};

// The weight-gradient kernels of four output channels a thread (versions 2 of conv_dw and stem_dw): thread j
// takes chunk pt of the positions [m0, m1), output channels co..co+3, and row r of the gradient (r = rows:
// the bias); its four partial sums go to part[o..o+3].
const DW4_HEAD = (positions: string): string => `
  let rows = u.K * u.K * u.Ci;
  let groups = u.Co / 4u;
  let perT = (rows + 1u) * groups;
  if (j >= perT * u.parts) { return; }
  let pt = j / perT;
  let co = (j % groups) * 4u;
  let r = (j % perT) / groups;
  let m0 = pt * u.chunk;
  let m1 = min(m0 + u.chunk, ${positions});
  let o = pt * (rows + 1u) * u.Co + r * u.Co + co;
  var acc = vec4<f32>(0.0);
  let ci = r % u.Ci; // row r's input channel and kernel tap (ky, kx); unused on the bias row
  let kk = r / u.Ci;
  let kx = kk % u.K;
  let ky = kk / u.K;`;

// the bias rows: Σ dout over the chunk's positions, four output channels, into acc
const BIAS4 = `
    for (var m = m0; m < m1; m++) {
      let d = m * u.Co + co;
      acc += vec4<f32>(dout[d], dout[d + 1u], dout[d + 2u], dout[d + 3u]);
    }`;

// Version 2 of stem_dw (output widths that are multiples of 4): four output channels a thread, each pooled
// input sum made once for four; the same terms in the same order as version 1.
export const stemDw4: KernelDef = {
  name: 'stem_dw4',
  fixed: stemDw.fixed,
  uniforms: stemDw.uniforms,
  bindings: stemDw.bindings,
  workgroup: 64,
  body: `
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>) {
  let j = gi(g, n);
${DW4_HEAD('u.B * u.Hp * u.Wp')}
  if (r == rows) {
${BIAS4}
  } else {
    for (var m = m0; m < m1; m++) {
      let px = m % u.Wp;
      let py = (m / u.Wp) % u.Hp;
      let b = m / (u.Wp * u.Hp);
      var s = 0.0;
      for (var d = 0u; d < 4u; d++) {
        let yy = 2u * py + d / 2u + ky;
        let xx = 2u * px + d % 2u + kx;
        s += x[((b * u.Hin + yy) * u.Win + xx) * u.Ci + ci];
      }
      let dd = m * u.Co + co;
      acc += s * 0.25 * vec4<f32>(dout[dd], dout[dd + 1u], dout[dd + 2u], dout[dd + 3u]);
    }
  }
  for (var k = 0u; k < 4u; k++) { part[o + k] = acc[k]; }
}`,
};

export const dwReduce: KernelDef = {
  name: 'dw_reduce',
  fixed: ['per', 'Co'],
  // per = (rows + 1)·Co partial sums per chunk; rows·Co weights go to wOff, the last Co (bias) to bOff
  uniforms: ['per', 'Co', 'parts', 'wOff', 'bOff'],
  bindings: [['part', 'read'], ['gr', 'rw']],
  workgroup: 64,
  body: `
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>) {
  let j = gi(g, n);
  if (j >= u.per) { return; }
  var acc = 0.0;
  for (var p = 0u; p < u.parts; p++) { acc += part[p * u.per + j]; }
  let weights = u.per - u.Co;
  if (j < weights) { gr[u.wOff + j] = acc; } else { gr[u.bOff + j - weights] = acc; }
}`,
};

/** Positions per chunk of the weight-gradient kernels: enough threads to fill a GPU, short loops each. */
export const DW_CHUNK = 256;

// ---- plain references (float64 sums; the tests compare the kernels with these on small odd shapes) ----

export interface ConvShape {
  B: number;
  H: number;
  W: number;
  Ci: number;
  Co: number;
  K: number;
  pad: number;
}

/** BatchNorm + ReLU as conv_fwd's input sees it (`bn` absent: the identity). */
export type BnAct = { mean: ArrayLike<number>; variance: ArrayLike<number>; gamma: ArrayLike<number>; beta: ArrayLike<number> } | null;

export function actRef(v: number, c: number, bn: BnAct): number {
  if (!bn) return v;
  return Math.max(0, ((v - bn.mean[c]) / Math.sqrt(bn.variance[c] + 1e-5)) * bn.gamma[c] + bn.beta[c]);
}

export function convFwdRef(s: ConvShape, inp: ArrayLike<number>, w: ArrayLike<number>, bias: ArrayLike<number>, bn: BnAct, res: ArrayLike<number> | null): Float64Array {
  const out = new Float64Array(s.B * s.H * s.W * s.Co);
  for (let b = 0; b < s.B; b++)
    for (let y = 0; y < s.H; y++)
      for (let x = 0; x < s.W; x++)
        for (let co = 0; co < s.Co; co++) {
          let acc = bias[co];
          for (let ky = 0; ky < s.K; ky++)
            for (let kx = 0; kx < s.K; kx++) {
              const iy = y + ky - s.pad;
              const ix = x + kx - s.pad;
              if (iy < 0 || iy >= s.H || ix < 0 || ix >= s.W) continue;
              for (let ci = 0; ci < s.Ci; ci++) acc += actRef(inp[((b * s.H + iy) * s.W + ix) * s.Ci + ci], ci, bn) * w[((ky * s.K + kx) * s.Ci + ci) * s.Co + co];
            }
          const i = ((b * s.H + y) * s.W + x) * s.Co + co;
          out[i] = acc + (res ? res[i] : 0);
        }
  return out;
}

export function convDxRef(s: ConvShape, dout: ArrayLike<number>, w: ArrayLike<number>): Float64Array {
  const dx = new Float64Array(s.B * s.H * s.W * s.Ci);
  for (let b = 0; b < s.B; b++)
    for (let y = 0; y < s.H; y++)
      for (let x = 0; x < s.W; x++)
        for (let ky = 0; ky < s.K; ky++)
          for (let kx = 0; kx < s.K; kx++) {
            const iy = y + ky - s.pad;
            const ix = x + kx - s.pad;
            if (iy < 0 || iy >= s.H || ix < 0 || ix >= s.W) continue;
            for (let ci = 0; ci < s.Ci; ci++)
              for (let co = 0; co < s.Co; co++) dx[((b * s.H + iy) * s.W + ix) * s.Ci + ci] += dout[((b * s.H + y) * s.W + x) * s.Co + co] * w[((ky * s.K + kx) * s.Ci + ci) * s.Co + co];
          }
  return dx;
}

export function convDwRef(s: ConvShape, inp: ArrayLike<number>, dout: ArrayLike<number>, bn: BnAct): { dw: Float64Array; db: Float64Array } {
  const dw = new Float64Array(s.K * s.K * s.Ci * s.Co);
  const db = new Float64Array(s.Co);
  for (let b = 0; b < s.B; b++)
    for (let y = 0; y < s.H; y++)
      for (let x = 0; x < s.W; x++)
        for (let co = 0; co < s.Co; co++) {
          const g = dout[((b * s.H + y) * s.W + x) * s.Co + co];
          db[co] += g;
          for (let ky = 0; ky < s.K; ky++)
            for (let kx = 0; kx < s.K; kx++) {
              const iy = y + ky - s.pad;
              const ix = x + kx - s.pad;
              if (iy < 0 || iy >= s.H || ix < 0 || ix >= s.W) continue;
              for (let ci = 0; ci < s.Ci; ci++) dw[((ky * s.K + kx) * s.Ci + ci) * s.Co + co] += actRef(inp[((b * s.H + iy) * s.W + ix) * s.Ci + ci], ci, bn) * g;
            }
        }
  return { dw, db };
}

export interface StemShape {
  B: number;
  Hin: number;
  Win: number;
  Ci: number;
  Co: number;
  K: number;
}

/** Valid k×k conv + bias, then 2×2 average pool (floor), as two separate steps. */
export function stemFwdRef(s: StemShape, x: ArrayLike<number>, w: ArrayLike<number>, bias: ArrayLike<number>): Float64Array {
  const Hc = s.Hin - s.K + 1;
  const Wc = s.Win - s.K + 1;
  const conv = convValid(s, x, w, bias, Hc, Wc);
  const Hp = Math.floor(Hc / 2);
  const Wp = Math.floor(Wc / 2);
  const out = new Float64Array(s.B * Hp * Wp * s.Co);
  for (let b = 0; b < s.B; b++)
    for (let py = 0; py < Hp; py++)
      for (let px = 0; px < Wp; px++)
        for (let co = 0; co < s.Co; co++) {
          let sum = 0;
          for (let d = 0; d < 4; d++) sum += conv[((b * Hc + 2 * py + (d >> 1)) * Wc + 2 * px + (d & 1)) * s.Co + co];
          out[((b * Hp + py) * Wp + px) * s.Co + co] = sum / 4;
        }
  return out;
}

function convValid(s: StemShape, x: ArrayLike<number>, w: ArrayLike<number>, bias: ArrayLike<number>, Hc: number, Wc: number): Float64Array {
  const out = new Float64Array(s.B * Hc * Wc * s.Co);
  for (let b = 0; b < s.B; b++)
    for (let y = 0; y < Hc; y++)
      for (let xx = 0; xx < Wc; xx++)
        for (let co = 0; co < s.Co; co++) {
          let acc = bias[co];
          for (let ky = 0; ky < s.K; ky++)
            for (let kx = 0; kx < s.K; kx++)
              for (let ci = 0; ci < s.Ci; ci++) acc += x[((b * s.Hin + y + ky) * s.Win + xx + kx) * s.Ci + ci] * w[((ky * s.K + kx) * s.Ci + ci) * s.Co + co];
          out[((b * Hc + y) * Wc + xx) * s.Co + co] = acc;
        }
  return out;
}

/** The stem's weight and bias gradients from the pooled output's gradient. */
export function stemDwRef(s: StemShape, x: ArrayLike<number>, dout: ArrayLike<number>): { dw: Float64Array; db: Float64Array } {
  const Hp = Math.floor((s.Hin - s.K + 1) / 2);
  const Wp = Math.floor((s.Win - s.K + 1) / 2);
  const dw = new Float64Array(s.K * s.K * s.Ci * s.Co);
  const db = new Float64Array(s.Co);
  for (let b = 0; b < s.B; b++)
    for (let py = 0; py < Hp; py++)
      for (let px = 0; px < Wp; px++)
        for (let co = 0; co < s.Co; co++) {
          const g = dout[((b * Hp + py) * Wp + px) * s.Co + co];
          db[co] += g;
          for (let d = 0; d < 4; d++)
            for (let ky = 0; ky < s.K; ky++)
              for (let kx = 0; kx < s.K; kx++)
                for (let ci = 0; ci < s.Ci; ci++) {
                  const v = x[((b * s.Hin + 2 * py + (d >> 1) + ky) * s.Win + 2 * px + (d & 1) + kx) * s.Ci + ci];
                  dw[((ky * s.K + kx) * s.Ci + ci) * s.Co + co] += (v * g) / 4;
                }
        }
  return { dw, db };
}

// Version 2 of conv_fwd and conv_dw for widths that are multiples of 4 (the paper's 64/32 and every width
// vds's configs use): one thread computes four output channels, so each input value is loaded and put
// through BatchNorm + ReLU once for four multiply-adds instead of once for each. The sums run over the same
// terms in the same order as version 1: the same bits.
export const convFwd4: KernelDef = {
  name: 'conv_fwd4',
  fixed: ['H', 'W', 'Ci', 'Co', 'K', 'pad', 'act', 'res'],
  uniforms: convFwd.uniforms,
  bindings: convFwd.bindings,
  workgroup: 64,
  body: `${ACT}
${ACT_MAIN} {
  load_act(t);
  let i = gi(g, n);
  let groups = u.Co / 4u;
  if (i >= u.B * u.H * u.W * groups) { return; }
  let co = (i % groups) * 4u;
  var r = i / groups;
  let x = r % u.W; r = r / u.W;
  let y = r % u.H;
  let b = r / u.H;
  var acc = vec4<f32>(0.0);
  for (var ky = 0u; ky < u.K; ky++) {
    let iy = i32(y + ky) - i32(u.pad);
    if (iy < 0 || iy >= i32(u.H)) { continue; }
    for (var kx = 0u; kx < u.K; kx++) {
      let ix = i32(x + kx) - i32(u.pad);
      if (ix < 0 || ix >= i32(u.W)) { continue; }
      let base = ((b * u.H + u32(iy)) * u.W + u32(ix)) * u.Ci;
      let wb = u.wOff + (ky * u.K + kx) * u.Ci * u.Co + co;
      for (var ci = 0u; ci < u.Ci; ci++) {
        let v = act(inp[base + ci], ci);
        let w = wb + ci * u.Co;
        acc += v * vec4<f32>(p[w], p[w + 1u], p[w + 2u], p[w + 3u]);
      }
    }
  }
  let o = ((b * u.H + y) * u.W + x) * u.Co + co;
  for (var j = 0u; j < 4u; j++) {
    var v = acc[j] + p[u.bOff + co + j];
    if (u.res != 0u) { v += resid[o + j]; }
    out[o + j] = v;
  }
}`,
};

export const convDw4: KernelDef = {
  name: 'conv_dw4',
  fixed: ['H', 'W', 'Ci', 'Co', 'K', 'pad', 'act', 'chunk'],
  uniforms: convDw.uniforms,
  bindings: convDw.bindings,
  workgroup: 64,
  body: `${ACT}
${ACT_MAIN} {
  load_act(t);
  let j = gi(g, n);
${DW4_HEAD('u.B * u.H * u.W')}
  if (r == rows) {
${BIAS4}
  } else {
    for (var m = m0; m < m1; m++) {
      let x = m % u.W;
      let y = (m / u.W) % u.H;
      let b = m / (u.W * u.H);
      let iy = i32(y + ky) - i32(u.pad);
      let ix = i32(x + kx) - i32(u.pad);
      if (iy < 0 || iy >= i32(u.H) || ix < 0 || ix >= i32(u.W)) { continue; }
      let v = act(inp[((b * u.H + u32(iy)) * u.W + u32(ix)) * u.Ci + ci], ci);
      let d = m * u.Co + co;
      acc += v * vec4<f32>(dout[d], dout[d + 1u], dout[d + 2u], dout[d + 3u]);
    }
  }
  for (var k = 0u; k < 4u; k++) { part[o + k] = acc[k]; }
}`,
};

// Version 3 of conv_fwd and conv_dw, register tiles (both widths multiples of 4, as the paper's 64/32): a thread
// computes a 4×4 tile — four positions × four output channels forward, four input × four output channels of
// the weight gradient — so each loaded value feeds four multiply-adds where version 2 fed one or four: 8
// loads for 16 multiply-adds forward instead of 5 for 4. Each output's sum still runs over the same terms in
// the same order: version 1's bits (tested).
const tile = (f: (s: number) => string): string => [0, 1, 2, 3].map(f).join('\n');

// the tile's four positions m0..m3 from \`first\` (one past the end repeats the last: computed, never written):
// column x, row y, the first row r = b·H of its example, and an accumulator a (four channels)
const TILE_POSITIONS = tile((s) => `  let m${s} = min(first + ${s}u, M - 1u);
  let x${s} = i32(m${s} % u.W);
  let y${s} = i32((m${s} / u.W) % u.H);
  let r${s} = (m${s} / (u.W * u.H)) * u.H;
  var a${s} = vec4<f32>(0.0);`);

// each position moved by (dy, dx) for the current kernel tap: whether it falls inside the map, and where its
// C channels start in a tensor of that shape (0 when outside: never read)
const TILE_SHIFT = (C: string): string =>
  tile((s) => `      let sy${s} = y${s} + dy;
      let sx${s} = x${s} + dx;
      let ok${s} = sy${s} >= 0 && sy${s} < i32(u.H) && sx${s} >= 0 && sx${s} < i32(u.W);
      let b${s} = select(0u, ((r${s} + u32(sy${s})) * u.W + u32(sx${s})) * ${C}, ok${s});`);

export const convFwd16: KernelDef = {
  name: 'conv_fwd16',
  fixed: convFwd4.fixed,
  uniforms: convFwd.uniforms,
  bindings: convFwd.bindings,
  workgroup: 64,
  body: `${ACT}
${ACT_MAIN} {
  load_act(t);
  let i = gi(g, n);
  let groups = u.Co / 4u;
  let M = u.B * u.H * u.W;
  if (i >= ((M + 3u) / 4u) * groups) { return; }
  let co = (i % groups) * 4u;
  let first = (i / groups) * 4u;
${TILE_POSITIONS}
  for (var ky = 0u; ky < u.K; ky++) {
    for (var kx = 0u; kx < u.K; kx++) {
      let dy = i32(ky) - i32(u.pad);
      let dx = i32(kx) - i32(u.pad);
${TILE_SHIFT('u.Ci')}
      let wb = u.wOff + (ky * u.K + kx) * u.Ci * u.Co + co;
      for (var ci = 0u; ci < u.Ci; ci++) {
        let w = wb + ci * u.Co;
        let wv = vec4<f32>(p[w], p[w + 1u], p[w + 2u], p[w + 3u]);
${tile((s) => `        if (ok${s}) { a${s} += act(inp[b${s} + ci], ci) * wv; }`)}
      }
    }
  }
${tile((s) => `  if (first + ${s}u < M) {
    let o = (first + ${s}u) * u.Co + co;
    for (var j = 0u; j < 4u; j++) {
      var v = a${s}[j] + p[u.bOff + co + j];
      if (u.res != 0u) { v += resid[o + j]; }
      out[o + j] = v;
    }
  }`)}
}`,
};

export const convDw16: KernelDef = {
  name: 'conv_dw16',
  fixed: convDw4.fixed,
  uniforms: convDw.uniforms,
  bindings: convDw.bindings,
  workgroup: 64,
  body: `${ACT}
${ACT_MAIN} {
  load_act(t);
  let j = gi(g, n);
  let rows = u.K * u.K * u.Ci;
  let groups = u.Co / 4u;
  let perT = (rows / 4u + 1u) * groups; // row groups of four input channels, then the bias
  if (j >= perT * u.parts) { return; }
  let pt = j / perT;
  let co = (j % groups) * 4u;
  let r = ((j % perT) / groups) * 4u; // the tile's first row: (ky, kx, ci) with ci a multiple of 4
  let m0 = pt * u.chunk;
  let m1 = min(m0 + u.chunk, u.B * u.H * u.W);
  let o = pt * (rows + 1u) * u.Co + r * u.Co + co;
  if (r == rows) {
    var acc = vec4<f32>(0.0);
${BIAS4}
    for (var k = 0u; k < 4u; k++) { part[o + k] = acc[k]; }
    return;
  }
  let ci = r % u.Ci;
  let kk = r / u.Ci;
  let kx = kk % u.K;
  let ky = kk / u.K;
${tile((s) => `  var a${s} = vec4<f32>(0.0);`)}
  for (var m = m0; m < m1; m++) {
    let x = m % u.W;
    let y = (m / u.W) % u.H;
    let b = m / (u.W * u.H);
    let iy = i32(y + ky) - i32(u.pad);
    let ix = i32(x + kx) - i32(u.pad);
    if (iy < 0 || iy >= i32(u.H) || ix < 0 || ix >= i32(u.W)) { continue; }
    let ib = ((b * u.H + u32(iy)) * u.W + u32(ix)) * u.Ci + ci;
    let d = m * u.Co + co;
    let dv = vec4<f32>(dout[d], dout[d + 1u], dout[d + 2u], dout[d + 3u]);
${tile((s) => `    a${s} += act(inp[ib + ${s}u], ci + ${s}u) * dv;`)}
  }
${tile((s) => `  for (var k = 0u; k < 4u; k++) { part[o + ${s}u * u.Co + k] = a${s}[k]; }`)}
}`,
};

// Version 3 of conv_dx (input widths that are multiples of 4): 4×4 register tiles, four positions × four input
// channels a thread, each weight vector loaded once for four positions, each output gradient once for four
// channels; version 1's order of terms, so its bits. (Version 2, four channels a thread, was superseded.)
export const convDx16: KernelDef = {
  name: 'conv_dx16',
  fixed: convDx.fixed,
  uniforms: convDx.uniforms,
  bindings: convDx.bindings,
  workgroup: 64,
  body: `
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>) {
  let i = gi(g, n);
  let groups = u.Ci / 4u;
  let M = u.B * u.H * u.W;
  if (i >= ((M + 3u) / 4u) * groups) { return; }
  let ci = (i % groups) * 4u;
  let first = (i / groups) * 4u;
${TILE_POSITIONS}
  for (var ky = 0u; ky < u.K; ky++) {
    for (var kx = 0u; kx < u.K; kx++) {
      let dy = i32(u.pad) - i32(ky);
      let dx = i32(u.pad) - i32(kx);
${TILE_SHIFT('u.Co')}
      let wb = u.wOff + ((ky * u.K + kx) * u.Ci + ci) * u.Co;
      for (var co = 0u; co < u.Co; co++) {
        let wv = vec4<f32>(p[wb + co], p[wb + u.Co + co], p[wb + 2u * u.Co + co], p[wb + 3u * u.Co + co]);
${tile((s) => `        if (ok${s}) { a${s} += dout[b${s} + co] * wv; }`)}
      }
    }
  }
${tile((s) => `  if (first + ${s}u < M) {
    let o = (first + ${s}u) * u.Ci + ci;
    for (var j = 0u; j < 4u; j++) { dx[o + j] = a${s}[j]; }
  }`)}
}`,
};

// Version 2 of stem_fwd (output widths that are multiples of 4): four output channels a thread.
export const stemFwd4: KernelDef = {
  name: 'stem_fwd4',
  fixed: ['Hin', 'Win', 'Ci', 'Hp', 'Wp', 'Co', 'K'],
  uniforms: stemFwd.uniforms,
  bindings: stemFwd.bindings,
  workgroup: 64,
  body: `
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>) {
  let i = gi(g, n);
  let groups = u.Co / 4u;
  if (i >= u.B * u.Hp * u.Wp * groups) { return; }
  let co = (i % groups) * 4u;
  var r = i / groups;
  let px = r % u.Wp; r = r / u.Wp;
  let py = r % u.Hp;
  let b = r / u.Hp;
  // a[d]: window d of the pool, four output channels; each input value is loaded once for four channels and
  // each weight once for four windows, the sums in version 1's order
  var a0 = vec4<f32>(0.0);
  var a1 = vec4<f32>(0.0);
  var a2 = vec4<f32>(0.0);
  var a3 = vec4<f32>(0.0);
  for (var ky = 0u; ky < u.K; ky++) {
    for (var kx = 0u; kx < u.K; kx++) {
      let base = ((b * u.Hin + 2u * py + ky) * u.Win + 2u * px + kx) * u.Ci;
      let wb = u.wOff + (ky * u.K + kx) * u.Ci * u.Co + co;
      for (var ci = 0u; ci < u.Ci; ci++) {
        let w = wb + ci * u.Co;
        let wv = vec4<f32>(p[w], p[w + 1u], p[w + 2u], p[w + 3u]);
        a0 += x[base + ci] * wv;
        a1 += x[base + u.Ci + ci] * wv;
        a2 += x[base + u.Win * u.Ci + ci] * wv;
        a3 += x[base + (u.Win + 1u) * u.Ci + ci] * wv;
      }
    }
  }
  let o = (((b * u.Hp + py) * u.Wp + px)) * u.Co + co;
  let sum = a0 + a1 + a2 + a3;
  for (var j = 0u; j < 4u; j++) { out[o + j] = p[u.bOff + co + j] + sum[j] * 0.25; }
}`,
};

// ---- which version a layer takes: the highest its widths allow, with the threads its dispatch runs ----

export interface Version {
  kernel: KernelDef;
  threads: number;
}

/** conv_fwd of a Cin → Co layer over M positions. */
export function convForward(Cin: number, Co: number, M: number): Version {
  if (Co % 4 !== 0) return { kernel: convFwd, threads: M * Co };
  if (Cin % 4 !== 0) return { kernel: convFwd4, threads: (M * Co) / 4 };
  return { kernel: convFwd16, threads: Math.ceil(M / 4) * (Co / 4) };
}

/** conv_dw of a K×K Cin → Co layer: its K·K·Cin weight rows and the bias row, over `parts` chunks of positions. */
export function convFilterGradient(Cin: number, Co: number, K: number, parts: number): Version {
  const rows = K * K * Cin;
  if (Co % 4 !== 0) return { kernel: convDw, threads: (rows + 1) * Co * parts };
  if (Cin % 4 !== 0) return { kernel: convDw4, threads: ((rows + 1) * Co * parts) / 4 };
  return { kernel: convDw16, threads: (rows / 4 + 1) * (Co / 4) * parts };
}

/** conv_dx of a layer with Cin input channels over M positions. */
export function convInputGradient(Cin: number, M: number): Version {
  return Cin % 4 === 0 ? { kernel: convDx16, threads: Math.ceil(M / 4) * (Cin / 4) } : { kernel: convDx, threads: M * Cin };
}

/** stem_fwd of Co output channels over M pooled positions. */
export function stemForward(Co: number, M: number): Version {
  return Co % 4 === 0 ? { kernel: stemFwd4, threads: (M * Co) / 4 } : { kernel: stemFwd, threads: M * Co };
}

/** stem_dw: `per` = (25·Ci + 1)·Co weights and biases, over `parts` chunks of positions. */
export function stemFilterGradient(Co: number, per: number, parts: number): Version {
  return Co % 4 === 0 ? { kernel: stemDw4, threads: (per * parts) / 4 } : { kernel: stemDw, threads: per * parts };
}

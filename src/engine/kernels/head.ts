// The shared head, computed for every depth at once: the pooled features of all depths are rows of one
// matrix z [H·B, C], so each layer of the head is one dispatch whatever D is.
//   pool_mean     z[d] = mean over positions of the block output at depth d ([B,H,W,C] → [B,C])
//   pool_bwd      the gradient of a block output from its pooled gradient (depth D's, where backward starts)
//   linear_fwd    out = in·W + b                       [M,K]·[K,N]
//   linear_dx     dx = dout·Wᵀ (+ base)                the input gradient, the residual path added
//   linear_dw     dW = inᵀ·dout, db = Σ dout           partial sums over chunks of rows (then dw_reduce)
//   head_bn_res   zz = z + BN_d(ReLU(u)), each depth d with its own batch statistics
import type { KernelDef } from '../kernel.ts';

const MAIN = '@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>)';

export const poolMean: KernelDef = {
  name: 'pool_mean',
  uniforms: ['B', 'HW', 'C', 'oOff'],
  bindings: [['h', 'read'], ['z', 'rw']],
  workgroup: 64,
  body: `${MAIN} {
  let i = gi(g, n);
  if (i >= u.B * u.C) { return; }
  let c = i % u.C;
  let b = i / u.C;
  var acc = 0.0;
  for (var s = 0u; s < u.HW; s++) { acc += h[(b * u.HW + s) * u.C + c]; }
  z[u.oOff + i] = acc / f32(u.HW);
}`,
};

export const poolBwd: KernelDef = {
  name: 'pool_bwd',
  uniforms: ['B', 'HW', 'C', 'zOff'],
  bindings: [['dz', 'read'], ['dh', 'rw']],
  workgroup: 64,
  body: `${MAIN} {
  let i = gi(g, n);
  if (i >= u.B * u.HW * u.C) { return; }
  let c = i % u.C;
  let b = (i / u.C) / u.HW;
  dh[i] = dz[u.zOff + b * u.C + c] / f32(u.HW);
}`,
};

export const linearFwd: KernelDef = {
  name: 'linear_fwd',
  uniforms: ['M', 'K', 'N', 'wOff', 'bOff'],
  bindings: [['inp', 'read'], ['p', 'read'], ['out', 'rw']],
  workgroup: 64,
  body: `${MAIN} {
  let i = gi(g, n);
  if (i >= u.M * u.N) { return; }
  let o = i % u.N;
  let m = i / u.N;
  var acc = 0.0;
  for (var k = 0u; k < u.K; k++) { acc += inp[m * u.K + k] * p[u.wOff + k * u.N + o]; }
  out[i] = acc + p[u.bOff + o];
}`,
};

export const linearDx: KernelDef = {
  name: 'linear_dx',
  uniforms: ['M', 'K', 'N', 'wOff', 'base'],
  bindings: [['dout', 'read'], ['p', 'read'], ['basein', 'read'], ['dx', 'rw']],
  workgroup: 64,
  body: `${MAIN} {
  let i = gi(g, n);
  if (i >= u.M * u.K) { return; }
  let k = i % u.K;
  let m = i / u.K;
  var acc = 0.0;
  for (var o = 0u; o < u.N; o++) { acc += dout[m * u.N + o] * p[u.wOff + k * u.N + o]; }
  if (u.base != 0u) { acc += basein[i]; }
  dx[i] = acc;
}`,
};

// The weight and bias gradients of a linear layer over M rows (in the head, M = depths × examples: 51,712
// rows at D = 100, batch 512), split like the convolutions' (kernels/conv.ts): one thread per (chunk of rows,
// weight) writes a partial sum and dw_reduce adds the chunks in order into the gradient buffer. One thread
// per weight over all rows left a GPU with a few hundred threads, each tens of thousands of steps long.
export const linearDw: KernelDef = {
  name: 'linear_dw',
  uniforms: ['M', 'K', 'N', 'chunk', 'parts'],
  bindings: [['inp', 'read'], ['dout', 'read'], ['part', 'rw']],
  workgroup: 64,
  body: `${MAIN} {
  let j = gi(g, n);
  let per = (u.K + 1u) * u.N;
  if (j >= per * u.parts) { return; }
  let pt = j / per;
  let o = j % u.N;
  let k = (j % per) / u.N;
  let m0 = pt * u.chunk;
  let m1 = min(m0 + u.chunk, u.M);
  var acc = 0.0;
  if (k == u.K) {
    for (var m = m0; m < m1; m++) { acc += dout[m * u.N + o]; }
  } else {
    for (var m = m0; m < m1; m++) { acc += inp[m * u.K + k] * dout[m * u.N + o]; }
  }
  part[j] = acc;
}`,
};

export const headBnRes: KernelDef = {
  name: 'head_bn_res',
  uniforms: ['G', 'N', 'C', 'sOff', 'gOff', 'beOff'],
  bindings: [['z', 'read'], ['uu', 'read'], ['p', 'read'], ['st', 'read'], ['zz', 'rw']],
  workgroup: 64,
  body: `${MAIN} {
  let i = gi(g, n);
  if (i >= u.G * u.N * u.C) { return; }
  let c = i % u.C;
  let grp = i / (u.N * u.C);
  let so = u.sOff + grp * 2u * u.C;
  let y = (max(uu[i], 0.0) - st[so + c]) * inverseSqrt(st[so + u.C + c] + EPS) * p[u.gOff + c] + p[u.beOff + c];
  zz[i] = z[i] + y;
}`,
};

// ---- plain references ----

export function linearRef(x: ArrayLike<number>, M: number, K: number, N: number, w: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const out = new Float64Array(M * N);
  for (let m = 0; m < M; m++)
    for (let o = 0; o < N; o++) {
      let acc = b[o];
      for (let k = 0; k < K; k++) acc += x[m * K + k] * w[k * N + o];
      out[m * N + o] = acc;
    }
  return out;
}

export function linearBackwardRef(x: ArrayLike<number>, dout: ArrayLike<number>, M: number, K: number, N: number, w: ArrayLike<number>): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const dx = new Float64Array(M * K);
  const dw = new Float64Array(K * N);
  const db = new Float64Array(N);
  for (let m = 0; m < M; m++)
    for (let o = 0; o < N; o++) {
      const g = dout[m * N + o];
      db[o] += g;
      for (let k = 0; k < K; k++) {
        dx[m * K + k] += g * w[k * N + o];
        dw[k * N + o] += x[m * K + k] * g;
      }
    }
  return { dx, dw, db };
}

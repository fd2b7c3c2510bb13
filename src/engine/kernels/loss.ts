// The ELBO of one batch from the logits of every depth (SPEC §1, §3), as src/vds/objective.ts defines it:
//   loss = Σ_d q_d · mean_n CE(f_d(x_n), y_n) + KL(q ‖ p) / N_train
//   ce_rows   per depth d (one workgroup each): log-softmax of every row (kept for the backward pass and
//             the marginal) and the mean cross-entropy NLL_d, summed in a fixed tree order
//   elbo      one workgroup: q = softmax(α) (one-hot for a fixed-depth network), E_q[NLL], KL, the loss,
//             the gradient of α, and the hits of the marginal predictive argmax_k logsumexp_d(log q_d +
//             log softmax_dk); writes [loss, E_q NLL, KL, hits] to `rec`
//   dlogits   ∂loss/∂f_d(x_n) = q_d / B · (softmax − onehot(y_n))
// Labels travel as f32 (class indices are exact there).
import type { KernelDef } from '../kernel.ts';

/** The most heads (D + 1) the elbo kernel holds in workgroup memory. */
export const MAX_HEADS = 1024;

export const ceRows: KernelDef = {
  name: 'ce_rows',
  uniforms: ['B', 'K'],
  bindings: [['logits', 'read'], ['lab', 'read'], ['lsm', 'rw'], ['nll', 'rw']],
  workgroup: 256,
  body: `
var<workgroup> sh: array<f32, 256>;
@compute @workgroup_size(256) fn main(@builtin(workgroup_id) w: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>) {
  let t = l.x;
  let h = w.x;
  var acc = 0.0;
  for (var b = t; b < u.B; b += 256u) {
    let row = (h * u.B + b) * u.K;
    var mx = logits[row];
    for (var k = 1u; k < u.K; k++) { mx = max(mx, logits[row + k]); }
    var s = 0.0;
    for (var k = 0u; k < u.K; k++) { s += exp(logits[row + k] - mx); }
    let lse = mx + log(s);
    for (var k = 0u; k < u.K; k++) { lsm[row + k] = logits[row + k] - lse; }
    acc -= logits[row + u32(lab[b])] - lse;
  }
  sh[t] = acc;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s = s >> 1u) {
    if (t < s) { sh[t] = sh[t] + sh[t + s]; }
    workgroupBarrier();
  }
  if (t == 0u) { nll[h] = sh[0] / f32(u.B); }
}`,
};

export const elbo: KernelDef = {
  name: 'elbo',
  uniforms: ['H', 'B', 'K', 'learnt', 'aOff', 'f_nTrain'],
  bindings: [['p', 'read'], ['prior', 'read'], ['nll', 'read'], ['lsm', 'read'], ['lab', 'read'], ['gr', 'rw'], ['qb', 'rw'], ['rec', 'rw']],
  workgroup: 256,
  body: `
var<workgroup> lq: array<f32, ${MAX_HEADS}>;
var<workgroup> sh: array<f32, 256>;
@compute @workgroup_size(256) fn main(@builtin(local_invocation_id) l: vec3<u32>) {
  let t = l.x;
  if (t == 0u) {
    if (u.learnt != 0u) {
      var mx = p[u.aOff];
      for (var h = 1u; h < u.H; h++) { mx = max(mx, p[u.aOff + h]); }
      var s = 0.0;
      for (var h = 0u; h < u.H; h++) { s += exp(p[u.aOff + h] - mx); }
      let lse = mx + log(s);
      for (var h = 0u; h < u.H; h++) { lq[h] = p[u.aOff + h] - lse; }
    } else {
      for (var h = 0u; h < u.H; h++) { lq[h] = 0.0; }
    }
    var e = 0.0;
    var kl = 0.0;
    for (var h = 0u; h < u.H; h++) {
      let q = exp(lq[h]);
      qb[h] = q;
      e += q * nll[h];
      kl += q * (lq[h] - prior[h]);
    }
    let n = f(u.f_nTrain);
    if (u.learnt != 0u) {
      for (var h = 0u; h < u.H; h++) {
        let q = exp(lq[h]);
        gr[u.aOff + h] = q * (nll[h] - e) + q * (lq[h] - prior[h] - kl) / n;
      }
    }
    rec[0] = e + kl / n;
    rec[1] = e;
    rec[2] = kl;
  }
  workgroupBarrier();
  var hits = 0.0;
  for (var b = t; b < u.B; b += 256u) {
    var best = 0u;
    var bestv = -3.4e38;
    for (var k = 0u; k < u.K; k++) {
      var mx = -3.4e38;
      for (var h = 0u; h < u.H; h++) { mx = max(mx, lq[h] + lsm[(h * u.B + b) * u.K + k]); }
      var s = 0.0;
      for (var h = 0u; h < u.H; h++) { s += exp(lq[h] + lsm[(h * u.B + b) * u.K + k] - mx); }
      let m = mx + log(s);
      if (m > bestv) { bestv = m; best = k; }
    }
    if (best == u32(lab[b])) { hits += 1.0; }
  }
  sh[t] = hits;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s = s >> 1u) {
    if (t < s) { sh[t] = sh[t] + sh[t + s]; }
    workgroupBarrier();
  }
  if (t == 0u) { rec[3] = sh[0]; }
}`,
};

export const dlogits: KernelDef = {
  name: 'dlogits',
  uniforms: ['H', 'B', 'K'],
  bindings: [['lsm', 'read'], ['lab', 'read'], ['qb', 'read'], ['dl', 'rw']],
  workgroup: 64,
  body: `
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>) {
  let i = gi(g, n);
  if (i >= u.H * u.B * u.K) { return; }
  let k = i % u.K;
  let b = (i / u.K) % u.B;
  let h = i / (u.K * u.B);
  var onehot = 0.0;
  if (k == u32(lab[b])) { onehot = 1.0; }
  dl[i] = qb[h] / f32(u.B) * (exp(lsm[i]) - onehot);
}`,
};

/** SGD with momentum, PyTorch semantics: g ← g + wd·θ; buf ← m·buf + g; θ ← θ − lr·buf (buf starts at 0). */
export const sgd: KernelDef = {
  name: 'sgd',
  uniforms: ['P', 'f_lr', 'f_momentum', 'f_wd'],
  bindings: [['gr', 'read'], ['mom', 'rw'], ['prm', 'rw']],
  workgroup: 64,
  body: `
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>) {
  let i = gi(g, n);
  if (i >= u.P) { return; }
  var grad = gr[i];
  if (f(u.f_wd) != 0.0) { grad = grad + prm[i] * f(u.f_wd); }
  var upd = grad;
  if (f(u.f_momentum) != 0.0) {
    upd = mom[i] * f(u.f_momentum) + grad;
    mom[i] = upd;
  }
  prm[i] = prm[i] - upd * f(u.f_lr);
}`,
};

// ---- plain reference ----

/** The objective and its logit gradients for logits [H,B,K], as the kernels compute them. */
export function elboRef(logits: ArrayLike<number>, labels: ArrayLike<number>, H: number, B: number, K: number, logQ: number[], logP: number[], nTrain: number) {
  const nll = new Float64Array(H);
  const lsm = new Float64Array(H * B * K);
  for (let h = 0; h < H; h++)
    for (let b = 0; b < B; b++) {
      const row = (h * B + b) * K;
      let mx = -Infinity;
      for (let k = 0; k < K; k++) mx = Math.max(mx, logits[row + k]);
      let s = 0;
      for (let k = 0; k < K; k++) s += Math.exp(logits[row + k] - mx);
      for (let k = 0; k < K; k++) lsm[row + k] = logits[row + k] - mx - Math.log(s);
      nll[h] -= lsm[row + labels[b]] / B;
    }
  const q = logQ.map(Math.exp);
  const e = q.reduce((a, qh, h) => a + qh * nll[h], 0);
  const kl = q.reduce((a, qh, h) => a + qh * (logQ[h] - logP[h]), 0);
  const dl = new Float64Array(H * B * K);
  for (let i = 0; i < dl.length; i++) {
    const k = i % K;
    const b = Math.floor(i / K) % B;
    const h = Math.floor(i / (K * B));
    dl[i] = (q[h] / B) * (Math.exp(lsm[i]) - (k === labels[b] ? 1 : 0));
  }
  return { nll, loss: e + kl / nTrain, expectedNll: e, kl, dlogits: dl };
}

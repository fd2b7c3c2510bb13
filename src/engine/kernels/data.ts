// The training split lives on the GPU as its uint8 bytes (four to a 32-bit word) with the dataset's
// normalisation table (256 values per channel, the same floats data/batch.ts computes), so a step uploads
// nothing: `gather` builds the batch from the epoch's shuffled row indices, uploaded once an epoch.
//   gather   x[b, j] = table[c·256 + byte(row·per + j)], labels[b] = y[row], row = order[start + b]
// Indices and labels travel as f32 (exact below 2^24 rows).
import type { KernelDef } from '../kernel.ts';

export const gather: KernelDef = {
  name: 'gather',
  uniforms: ['B', 'per', 'C', 'start'],
  bindings: [['bytes', 'read-u32'], ['table', 'read'], ['ys', 'read'], ['order', 'read'], ['x', 'rw'], ['lab', 'rw']],
  workgroup: 64,
  body: `
fn byte_at(k: u32) -> u32 { return (bytes[k / 4u] >> ((k % 4u) * 8u)) & 255u; }
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>) {
  let i = gi(g, n);
  if (i >= u.B * u.per) { return; }
  let b = i / u.per;
  let j = i % u.per;
  let row = u32(order[u.start + b]);
  x[i] = table[(j % u.C) * 256u + byte_at(row * u.per + j)];
  if (j == 0u) { lab[b] = ys[row]; }
}`,
};

/** Packs bytes four to a word (little-endian), as gather reads them. */
export function packBytes(bytes: Uint8Array): Uint32Array {
  const words = new Uint32Array(Math.ceil(bytes.length / 4));
  new Uint8Array(words.buffer).set(bytes);
  return words;
}

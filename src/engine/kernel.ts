// What a kernel is to the engine: WGSL source, the names of its u32 uniforms (f32 values travel bit-cast),
// how each storage buffer is bound, and how many threads one dispatch runs. The WGSL `struct U` and the
// binding declarations are generated from that description, so a kernel's source holds only its body.

/** WebGPU's guaranteed limit on workgroups per grid dimension. */
export const MAX_GROUPS = 65535;

export type Access = 'read' | 'rw' | 'read-u32'; // read-u32: raw 32-bit words (packed bytes), never f32 bits

export interface KernelDef {
  name: string;
  uniforms: readonly string[]; // u32 fields of `u`, in order (f32 ones are read with f(u.name))
  bindings: readonly (readonly [string, Access])[]; // storage buffers, binding 1.. in order (0 is `u`)
  workgroup: number; // threads per workgroup (x)
  body: string; // WGSL: helper functions and `fn main(...)`, using `u`, the bindings and `gi(...)`
  // uniforms baked into the pipeline as constants (`u.K` becomes `c_K`): a pipeline per shape, so the
  // compiler sees the loop bounds and strides (unrolled loops, folded index arithmetic, workgroup arrays
  // sized to the layer). Shapes only — a value that changes between dispatches of one layer stays a uniform.
  fixed?: readonly string[];
}

/** The values of a kernel's fixed uniforms, in order: a pipeline's key beside the kernel's name. */
export function fixedValues(k: KernelDef, values: Record<string, number>): number[] {
  return (k.fixed ?? []).map((n) => {
    const v = values[n];
    if (!Number.isInteger(v) || v < 0) throw new Error(`${k.name}: fixed uniform ${n} = ${v} is not a u32`);
    return v;
  });
}

/** The WGSL module of a kernel: uniform struct, bindings, shared helpers, then the body (its fixed uniforms as constants). */
export function wgsl(k: KernelDef, fixed: readonly number[] = []): string {
  const names = k.fixed ?? [];
  if (fixed.length !== names.length) throw new Error(`${k.name}: ${fixed.length} values for fixed uniforms ${names.join(', ')}`);
  let body = k.body;
  for (const n of names) body = body.replace(new RegExp(`\\bu\\.${n}\\b`, 'g'), `c_${n}`);
  const fields = [...k.uniforms];
  while (fields.length % 4 !== 0) fields.push(`_pad${fields.length}`); // uniform structs are 16-byte multiples
  const struct = `struct U {\n${fields.map((f) => `  ${f}: u32,`).join('\n')}\n}`;
  const binds = k.bindings.map(([name, access], i) => `@group(0) @binding(${i + 1}) var<storage, ${access === 'rw' ? 'read_write' : 'read'}> ${name}: array<${access === 'read-u32' ? 'u32' : 'f32'}>;`);
  return [
    struct,
    '@group(0) @binding(0) var<uniform> u: U;',
    ...binds,
    'const EPS: f32 = 1e-5;',
    `const WGS: u32 = ${k.workgroup}u;`,
    '// the flat index of a thread in a grid that may be folded into two dimensions (more than 65,535 groups)',
    'fn gi(g: vec3<u32>, n: vec3<u32>) -> u32 { return g.y * n.x * WGS + g.x; }',
    'fn f(bits: u32) -> f32 { return bitcast<f32>(bits); }',
    ...names.map((n, i) => `const c_${n}: u32 = ${fixed[i]}u;`),
    body,
  ].join('\n');
}

/** Workgroups for `threads` threads of `workgroup` each, folded into [x, y] when over the per-dimension limit. */
export function grid(threads: number, workgroup: number): [number, number] {
  const groups = Math.max(1, Math.ceil(threads / workgroup));
  if (groups <= MAX_GROUPS) return [groups, 1];
  const y = Math.ceil(groups / MAX_GROUPS);
  return [Math.ceil(groups / y), y];
}

/** A number as the u32 a uniform field holds: integers as they are, others as f32 bits. */
export function uniformBits(values: readonly number[], asFloat: ReadonlySet<number>): Uint32Array<ArrayBuffer> {
  const padded = Math.ceil(Math.max(values.length, 1) / 4) * 4;
  const out = new Uint32Array(padded);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  values.forEach((v, i) => {
    if (asFloat.has(i)) {
      f[0] = v;
      out[i] = u[0];
    } else {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`uniform ${i} = ${v} is not a u32`);
      out[i] = v;
    }
  });
  return out;
}

// The engine's hold on a WebGPU device: storage buffers, pipelines compiled once per kernel, and dispatches
// whose uniform buffer and bind group are made when a plan is built, never while it runs. Replaying a list
// of dispatches is then setPipeline + setBindGroup + dispatchWorkgroups each, in one compute pass.
import { fixedValues, grid, MAX_GROUPS, uniformBits, wgsl, type KernelDef } from './kernel.ts';

export interface Dispatch {
  kernel: string;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  groups: [number, number];
  uniform: GPUBuffer; // rewritten in place when a value changes (the learning rate)
}

/** A copy between buffers recorded in a plan (offsets and sizes in floats). */
export interface Copy {
  from: GPUBuffer;
  fromOffset: number;
  to: GPUBuffer;
  toOffset: number;
  floats: number;
}

export type Step = Dispatch | Copy;

const isCopy = (s: Step): s is Copy => (s as Copy).from !== undefined;

/** A kernel's uniform values in its field order, the `f_` fields as f32 bits. */
function uniformsOf(k: KernelDef, values: Record<string, number>): Uint32Array<ArrayBuffer> {
  const floats = new Set(k.uniforms.flatMap((n, i) => (n.startsWith('f_') ? [i] : [])));
  return uniformBits(k.uniforms.map((n) => values[n]), floats);
}

export class Gpu {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly owned: GPUBuffer[] = [];
  private readonly staging: GPUBuffer[] = []; // MAP_READ buffers, reused by size

  constructor(readonly device: GPUDevice) {}

  /** Bytes of the storage buffers made so far (what the engine asks of the device's memory). */
  bytes = 0;

  /** A storage buffer of `floats` f32 values (at least one), zero-filled. */
  buffer(floats: number, label: string): GPUBuffer {
    const size = Math.max(16, Math.ceil((floats * 4) / 16) * 16);
    const b = this.device.createBuffer({ label, size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    this.owned.push(b);
    this.bytes += size;
    return b;
  }

  write(buffer: GPUBuffer, offsetFloats: number, data: Float32Array | Uint32Array): void {
    if (data.length) this.device.queue.writeBuffer(buffer, offsetFloats * 4, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
  }

  /** The kernel's pipeline for the values of its fixed uniforms: compiled once per shape. */
  private pipeline(k: KernelDef, values: Record<string, number>): GPUComputePipeline {
    const fixed = fixedValues(k, values);
    const key = fixed.length ? `${k.name}(${fixed.join(',')})` : k.name;
    let p = this.pipelines.get(key);
    if (!p) {
      const module = this.device.createShaderModule({ label: key, code: wgsl(k, fixed) });
      // an explicit layout: 'auto' would drop a binding the shader never reads, and the bind group would not match
      const layout = this.device.createBindGroupLayout({
        label: k.name,
        entries: [
          { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } },
          ...k.bindings.map(([, access], i) => ({ binding: i + 1, visibility: GPUShaderStage.COMPUTE, buffer: { type: access === 'rw' ? ('storage' as const) : ('read-only-storage' as const) } })),
        ],
      });
      p = this.device.createComputePipeline({ label: key, layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }), compute: { module, entryPoint: 'main' } });
      this.pipelines.set(key, p);
    }
    return p;
  }

  /**
   * A dispatch of `k` over `buffers` (in the kernel's binding order) with its uniforms; `threads` for an
   * elementwise kernel (one thread per output), or `groups` workgroups for a reduction kernel.
   */
  dispatch(k: KernelDef, values: Record<string, number>, buffers: GPUBuffer[], size: { threads: number } | { groups: number }): Dispatch {
    if (buffers.length !== k.bindings.length) throw new Error(`${k.name}: ${buffers.length} buffers for ${k.bindings.length} bindings`);
    const missing = k.uniforms.filter((n) => values[n] === undefined);
    if (missing.length) throw new Error(`${k.name}: no value for ${missing.join(', ')}`);
    const bits = uniformsOf(k, values);
    const uniform = this.device.createBuffer({ label: `${k.name}.u`, size: bits.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.owned.push(uniform);
    this.device.queue.writeBuffer(uniform, 0, bits);
    const pipeline = this.pipeline(k, values);
    const bindGroup = this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: { buffer: uniform } }, ...buffers.map((buffer, i) => ({ binding: i + 1, resource: { buffer } }))],
    });
    const groups: [number, number] = 'threads' in size ? grid(size.threads, k.workgroup) : [size.groups, 1];
    if (groups[0] > MAX_GROUPS) throw new Error(`${k.name}: ${groups[0]} workgroups in one dimension`);
    return { kernel: k.name, pipeline, bindGroup, groups, uniform };
  }

  /** Rewrites a dispatch's uniforms (e.g. the learning rate): one small queue write, no new bind group. */
  rewrite(d: Dispatch, k: KernelDef, values: Record<string, number>): void {
    if (d.pipeline !== this.pipeline(k, values)) throw new Error(`${k.name}: a rewrite cannot change the fixed uniforms (${k.fixed?.join(', ')})`);
    this.device.queue.writeBuffer(d.uniform, 0, uniformsOf(k, values));
  }

  /** Encodes `steps` in order (dispatches in compute passes, copies between them) and submits once. */
  run(steps: Step[]): void {
    const enc = this.device.createCommandEncoder();
    let pass: GPUComputePassEncoder | null = null;
    for (const s of steps) {
      if (isCopy(s)) {
        pass?.end();
        pass = null;
        enc.copyBufferToBuffer(s.from, s.fromOffset * 4, s.to, s.toOffset * 4, s.floats * 4);
        continue;
      }
      pass ??= enc.beginComputePass();
      pass.setPipeline(s.pipeline);
      pass.setBindGroup(0, s.bindGroup);
      pass.dispatchWorkgroups(s.groups[0], s.groups[1]);
    }
    pass?.end();
    this.device.queue.submit([enc.finish()]);
  }

  /** Reads `floats` values of `buffer` from `offsetFloats`, after everything submitted so far. */
  async read(buffer: GPUBuffer, offsetFloats: number, floats: number): Promise<Float32Array> {
    const bytes = floats * 4;
    if (bytes === 0) return new Float32Array(0);
    const i = this.staging.findIndex((s) => s.size >= bytes && s.mapState === 'unmapped');
    const st = i >= 0 ? this.staging.splice(i, 1)[0] : this.device.createBuffer({ size: Math.ceil(bytes / 256) * 256, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(buffer, offsetFloats * 4, st, 0, bytes);
    this.device.queue.submit([enc.finish()]);
    await st.mapAsync(GPUMapMode.READ, 0, bytes);
    const out = new Float32Array(st.getMappedRange(0, bytes).slice(0));
    st.unmap();
    this.staging.push(st);
    return out;
  }

  /** Resolves once the GPU has finished everything submitted so far. */
  done(): Promise<void> {
    return this.device.queue.onSubmittedWorkDone();
  }

  destroy(): void {
    for (const b of [...this.owned, ...this.staging]) b.destroy();
    this.owned.length = 0;
    this.staging.length = 0;
  }
}

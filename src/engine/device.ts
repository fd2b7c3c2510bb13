// The engine's device: the adapter vds's WebGPU setup chose (src/tf/webgpu.ts: VDS_WEBGPU_ADAPTER, driver
// checks), asked for a device of the engine's own with the adapter's largest buffer limits. With
// VDS_DAWN_BACKEND=null, Dawn's null device instead: every call accepted, no kernel run — what `vds bench`
// uses to measure the CPU side of a step on a machine without a GPU (its numbers are not computed).
import { instances, loadDawn, setupWebGpu, webGpuSetup, type DawnAdapter, type WebGpuAdapterInfo } from '../tf/webgpu.ts';
import { DAWN_BACKEND_ENV } from './name.ts';

export { DAWN_BACKEND_ENV };

export interface EngineDevice {
  device: GPUDevice;
  adapter: WebGpuAdapterInfo | null; // null on Dawn's null device
  nullDevice: boolean; // computes nothing: timings of the CPU side only
}

let shared: Promise<EngineDevice> | null = null;

/** One device per process, made on first use (a second engine shares it). */
export function engineDevice(env: NodeJS.ProcessEnv = process.env): Promise<EngineDevice> {
  shared ??= open(env).catch((e) => {
    shared = null;
    throw e;
  });
  return shared;
}

async function open(env: NodeJS.ProcessEnv): Promise<EngineDevice> {
  if (env[DAWN_BACKEND_ENV] === 'null') {
    const mod = await loadDawn();
    const gpu = mod.create(['backend=null']);
    instances.push(gpu);
    Object.assign(globalThis, mod.globals);
    const adapter = await gpu.requestAdapter();
    if (!adapter) throw new Error("Dawn's null device is not available in this build of the 'webgpu' package");
    return { device: await request(adapter), adapter: null, nullDevice: true };
  }
  // the adapter backend selection already chose (and probed), else a setup of the engine's own (tests)
  const { adapter, info } = webGpuSetup() ?? (await setupWebGpu(false, env));
  return { device: await request(adapter), adapter: info, nullDevice: false };
}

async function request(adapter: DawnAdapter): Promise<GPUDevice> {
  const l = adapter.limits;
  const device = await adapter.requestDevice({
    label: 'vds engine',
    requiredLimits: { maxBufferSize: l.maxBufferSize, maxStorageBufferBindingSize: l.maxStorageBufferBindingSize, maxStorageBuffersPerShaderStage: Math.min(8, l.maxStorageBuffersPerShaderStage) },
  });
  // a lost device or an uncaught validation error is a bug or a driver fault: say it, once, on stderr
  device.addEventListener?.('uncapturederror', (ev: Event) => {
    process.stderr.write(`vds engine: WebGPU error: ${(ev as GPUUncapturedErrorEvent).error?.message ?? ev}\n`);
  });
  return device;
}

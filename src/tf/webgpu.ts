// The WebGPU backend's setup: Dawn's Node bindings (npm `webgpu`) give Node a `navigator.gpu` over Vulkan
// (Linux), Metal (macOS) or D3D12 (Windows); @tensorflow/tfjs-backend-webgpu then runs TF.js on it. This
// file finds the adapter, says what it is (a software adapter such as SwiftShader is slower than wasm, so
// 'auto' skips it), and explains a missing driver in one line. Both packages are optional dependencies. The
// first look for an adapter happens in a child process (webgpu-probe.ts), so the drivers' own stderr is
// vds's to summarise rather than the user's to read.
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { probeInChild, type ProbeResult } from './webgpu-probe.ts';

/** What vds records of the adapter it trains on (env.json, `vds doctor`). */
export interface WebGpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string; // Dawn's adapter name, e.g. 'SwiftShader Device (Subzero)'
  description: string;
  backend: string; // vulkan | metal | d3d12 | …, from Dawn's adapter list
  software: boolean; // a fallback or CPU-emulated adapter
  maxBufferSize: number; // bytes: the largest GPU buffer (one tensor)
  maxStorageBufferBindingSize: number; // bytes: the largest tensor one kernel can bind
  selectedBy: string; // how this adapter was chosen: 'default' or `VDS_WEBGPU_ADAPTER=…`
  available: string[]; // every adapter Dawn lists, as 'backend: name'
}

/** The env var that picks an adapter: an index into Dawn's list or a substring of an adapter's name. */
export const ADAPTER_ENV = 'VDS_WEBGPU_ADAPTER';

// Dawn's Node bindings, typed as far as vds uses them
export interface DawnAdapter {
  requestDevice(d?: { requiredLimits?: Record<string, number>; label?: string }): Promise<GPUDevice>;
  info: { vendor: string; architecture: string; device: string; description: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number; maxStorageBuffersPerShaderStage: number };
}
export interface DawnGpu {
  requestAdapter(o?: { powerPreference?: string }): Promise<DawnAdapter | null>;
}
export interface DawnModule {
  create(flags: string[]): DawnGpu;
  globals: Record<string, unknown>;
}

let dawn: DawnModule | null = null;
// Every Dawn instance made, kept for the life of the process: one that is garbage-collected while its
// adapter or device is in use aborts the process (seen: std::system_error from dawn.node).
export const instances: DawnGpu[] = [];

export async function loadDawn(): Promise<DawnModule> {
  if (dawn) return dawn;
  try {
    // @ts-ignore optional dependency
    dawn = (await import('webgpu')) as DawnModule;
  } catch (e) {
    throw new Error(`the optional package 'webgpu' (Dawn's Node bindings) is not installed or has no build for ${process.platform}-${process.arch}: ${firstLine(e)}`);
  }
  return dawn;
}

const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0].slice(0, 200);

/** Software rasterisers that implement Vulkan on the CPU: correct, and far slower than wasm for training. */
const SOFTWARE = /swiftshader|llvmpipe|lavapipe|software|basic render|microsoft basic/i;

/** Dawn flags for the adapter VDS_WEBGPU_ADAPTER asks for (index into the list, or a name substring). */
function adapterFlags(choice: string | undefined, available: string[]): string[] {
  if (choice === undefined || choice.trim() === '') return [];
  const c = choice.trim();
  if (/^\d+$/.test(c)) {
    const k = Number(c);
    if (k >= available.length) {
      throw new Error(`${ADAPTER_ENV}=${c}, but Dawn lists ${available.length} adapter(s)${available.length ? `: ${available.map((a, i) => `${i} ${a}`).join('; ')}` : ''}`);
    }
    const name = available[k].replace(/^[^:]*: /, '');
    // Dawn selects by name (the first adapter whose name contains it): identical GPUs cannot be told apart
    const same = available.filter((a) => a.replace(/^[^:]*: /, '') === name).length;
    if (same > 1 && k !== available.findIndex((a) => a.endsWith(`: ${name}`))) {
      throw new Error(
        `${ADAPTER_ENV}=${c} names one of ${same} adapters called '${name}'; Dawn's Node bindings choose adapters by name, so only the first of them can be used — restrict the devices the driver exposes instead (e.g. MESA_VK_DEVICE_SELECT, or one GPU per container)`,
      );
    }
    return [`adapter=${name}`];
  }
  return [`adapter=${c}`];
}

/**
 * For a worker that runs `slots` trainings at once, one GPU each: the VDS_WEBGPU_ADAPTER value for each slot
 * (Dawn's adapter index), when Dawn lists that many hardware adapters with distinct names; otherwise null
 * and why (Dawn's Node bindings pick adapters by name, so GPUs of one model cannot be told apart).
 */
export async function adaptersForSlots(slots: number, env: NodeJS.ProcessEnv = process.env): Promise<{ adapters: string[] | null; note: string }> {
  if (env[ADAPTER_ENV]) return { adapters: null, note: `${ADAPTER_ENV}=${env[ADAPTER_ENV]} is set: every webgpu run uses that adapter` };
  let available: string[];
  try {
    available = (await probeInChild(dawnUrl(), undefined, env)).available.filter((a) => !SOFTWARE.test(a));
  } catch (e) {
    return { adapters: null, note: `webgpu unavailable (${firstLine(e)})` };
  }
  const names = new Set(available.map((a) => a.replace(/^[^:]*: /, '')));
  if (available.length >= slots && names.size === available.length) {
    return { adapters: Array.from({ length: slots }, (_, i) => String(i)), note: `webgpu runs get adapters 0..${slots - 1} of: ${available.join('; ')}` };
  }
  const why = names.size < available.length ? 'its GPUs share a name, and Dawn picks adapters by name' : `Dawn lists ${available.length} hardware adapter(s)`;
  return { adapters: null, note: `webgpu runs all use the first adapter (${why}); run one worker per GPU to spread them` };
}

export interface WebGpuSetup {
  info: WebGpuAdapterInfo;
  adapter: DawnAdapter; // for vds's own engine (src/engine), which asks it for a device of its own
}

/**
 * Installs navigator.gpu (Dawn) for TF.js's webgpu backend and returns the adapter it will get. Throws
 * with the reason when there is none, or when `requireHardware` and the adapter is a software one.
 */
export async function setupWebGpu(requireHardware: boolean, env: NodeJS.ProcessEnv = process.env): Promise<WebGpuSetup> {
  driverSaid = ''; // this attempt's, not an earlier one's
  if (process.platform === 'linux') {
    // no Vulkan loader or driver at all: say so without starting Dawn (and its drivers' own messages)
    const d = driverReport(env);
    if (!d.loader || !d.drivers.length) throw new Error(`no WebGPU adapter: ${d.summary}`);
  }
  // ask in a child process first, so the drivers' own messages while they look for a device stay off this
  // process's stderr (webgpu-probe.ts); Dawn loads here only for an adapter vds will use
  const choice = env[ADAPTER_ENV];
  const probe = await probeInChild(dawnUrl(), choice, env);
  driverSaid = probe.driverSaid;
  const available = probe.available;
  const flags = adapterFlags(choice, available);
  if (probe.error) {
    throw new Error(`no WebGPU adapter${choice ? ` matches ${ADAPTER_ENV}=${choice}` : ''}: ${probe.error}${available.length ? ` (available: ${available.join('; ')})` : ''}`);
  }
  if (!probe.adapter) throw new Error(`no WebGPU adapter: ${noAdapterReason()}`);
  const info = adapterInfo(probe.adapter, available, choice);
  probed = info;
  if (requireHardware && info.software) {
    throw new Error(`the only adapter is a software one (${describeAdapter(info)}), slower than wasm; --backend webgpu uses it anyway`);
  }
  if (process.platform === 'linux' && !process.env.XDG_RUNTIME_DIR && /XDG_RUNTIME_DIR/.test(probe.driverSaid)) {
    // the driver's window-system code complained in the child that XDG_RUNTIME_DIR is unset; vds opens no
    // windows, so a private empty one keeps Dawn's start in this process silent too
    process.env.XDG_RUNTIME_DIR = mkdtempSync(join(tmpdir(), 'vds-xdg-'));
  }
  const mod = await loadDawn();
  const gpu = mod.create(flags);
  instances.push(gpu);
  let adapter: DawnAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    throw new Error(`no WebGPU adapter${choice ? ` matches ${ADAPTER_ENV}=${choice}` : ''}: ${firstLine(e)}`);
  }
  if (!adapter) throw new Error(`no WebGPU adapter: ${noAdapterReason()} (the probe found one, this process did not)`);
  // TF.js's webgpu backend asks navigator.gpu for its adapter; hand it the one chosen here. Dawn's globals
  // (GPUBufferUsage, GPUMapMode, …) are what the backend's code expects a browser to define.
  const chosen = adapter;
  Object.assign(globalThis, mod.globals);
  const nav = { gpu: { requestAdapter: async () => chosen, getPreferredCanvasFormat: () => 'bgra8unorm' } };
  Object.defineProperty(globalThis, 'navigator', { value: nav, configurable: true, writable: true });
  current = info;
  lastSetup = { info, adapter };
  return lastSetup;
}

/** Where Node would load Dawn's bindings from (for the probe's child), or why they are not installed. */
function dawnUrl(): string {
  try {
    return import.meta.resolve('webgpu');
  } catch (e) {
    throw new Error(`the optional package 'webgpu' (Dawn's Node bindings) is not installed or has no build for ${process.platform}-${process.arch}: ${firstLine(e)}`);
  }
}

/** Why Dawn offered no adapter although the Vulkan loader and drivers are there (or what is missing). */
function noAdapterReason(): string {
  const d = driverReport();
  const names = d.drivers.map((f) => f.replace(/^.*\//, ''));
  // seen on an H200 node (2026-12-04): NVIDIA's manifest was there, but its library (libGLX_nvidia.so.0)
  // could not load without libglvnd, and the loader said only "Found no drivers"
  const nvidia = names.some((n) => /nvidia/i.test(n))
    ? "; NVIDIA's Vulkan library needs libglvnd (Debian/Ubuntu: apt-get install libglvnd0 libgl1 libegl1), and VK_LOADER_DEBUG=error shows why a driver did not load"
    : '';
  return d.drivers.length && d.loader ? `the Vulkan driver(s) found (${names.join(', ')}) offer no device Dawn accepts: install the GPU vendor's Vulkan driver (Mesa's lavapipe is not enough)${nvidia}` : d.summary;
}

/** vds's record of the adapter Dawn handed out. */
function adapterInfo(adapter: NonNullable<ProbeResult['adapter']>, available: string[], choice: string | undefined): WebGpuAdapterInfo {
  const i = adapter.info;
  // the list gives Dawn's display name ('SwiftShader Device (Subzero)'), info.device a slug of it
  const slug = (t: string): string => t.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  const named = available.find((a) => slug(a.replace(/^[^:]*: /, '')) === slug(i.device)) ?? (available.length === 1 ? available[0] : '');
  const software = Boolean(i.isFallbackAdapter ?? adapter.isFallbackAdapter) || SOFTWARE.test(`${i.architecture} ${i.device} ${i.description}`);
  return {
    vendor: i.vendor,
    architecture: i.architecture,
    device: named ? named.replace(/^[^:]*: /, '') : i.device,
    description: i.description,
    backend: named.split(':')[0] || defaultApi(),
    software,
    maxBufferSize: adapter.limits.maxBufferSize,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    selectedBy: choice ? `${ADAPTER_ENV}=${choice}` : 'default',
    available,
  };
}

let current: WebGpuAdapterInfo | null = null;
let lastSetup: WebGpuSetup | null = null;

/** The adapter setupWebGpu last handed out, for vds's engine to ask for its device without a second probe. */
export const webGpuSetup = (): WebGpuSetup | null => lastSetup;
let probed: WebGpuAdapterInfo | null = null;
let driverSaid = '';

/** What the drivers wrote to stderr during the last probe, in one line ('' when silent). */
export const probeDriverOutput = (): string => driverSaid;

/** The adapter the last setupWebGpu found, even one it then declined as software (for `vds doctor`). */
export const probedAdapter = (): WebGpuAdapterInfo | null => probed;

/** The adapter the webgpu backend runs on, once setupWebGpu has succeeded. */
export const webGpuAdapter = (): WebGpuAdapterInfo | null => current;

export const describeAdapter = (a: WebGpuAdapterInfo): string =>
  `${a.device || 'unnamed'}${a.description && a.description !== a.device ? ` (${a.description})` : ''}, vendor ${a.vendor || '?'}${a.architecture ? `, ${a.architecture} architecture` : ''}, via ${a.backend}${a.software ? ', a software adapter' : ''}`;

const defaultApi = (): string => (process.platform === 'darwin' ? 'metal' : process.platform === 'win32' ? 'd3d12' : 'vulkan');

export interface DriverReport {
  api: string; // the native API Dawn uses on this platform
  drivers: string[]; // Vulkan ICD manifests found (Linux)
  loader: string | null; // where libvulkan.so.1 was found (Linux)
  summary: string; // one line for `vds doctor` and skip reasons
}

/** Vulkan ICD manifest folders the loader searches on Linux (XDG and system paths). */
const ICD_DIRS = ['/etc/vulkan/icd.d', '/usr/share/vulkan/icd.d', '/usr/local/share/vulkan/icd.d', '/usr/local/etc/vulkan/icd.d'];
/** SwiftShader's manifest in Debian's chromium package: a software Vulkan driver, for tests. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Which native GPU driver Dawn can reach here, or why none (only Linux needs a separate Vulkan driver). */
export function driverReport(env: NodeJS.ProcessEnv = process.env): DriverReport {
  if (process.platform === 'darwin') return { api: 'metal', drivers: ['Metal (part of macOS)'], loader: null, summary: 'Metal is part of macOS' };
  if (process.platform === 'win32') return { api: 'd3d12', drivers: ['Direct3D 12 (part of Windows)'], loader: null, summary: 'Direct3D 12 is part of Windows; update the GPU driver if no adapter appears' };
  const explicit = (env.VK_DRIVER_FILES ?? env.VK_ICD_FILENAMES ?? '').split(':').filter(Boolean);
  const drivers = explicit.length
    ? explicit.filter((f) => existsSync(f))
    : ICD_DIRS.flatMap((d) => {
        try {
          return readdirSync(d).filter((f) => f.endsWith('.json')).map((f) => join(d, f));
        } catch {
          return [];
        }
      });
  const loader = findVulkanLoader(env);
  let summary: string;
  if (!loader) summary = 'no Vulkan loader (libvulkan.so.1): install it (Debian/Ubuntu: apt install libvulkan1)';
  else if (explicit.length && drivers.length < explicit.length) summary = `VK_ICD_FILENAMES/VK_DRIVER_FILES names ${explicit.filter((f) => !existsSync(f)).join(', ')}, which does not exist`;
  else if (!drivers.length) {
    summary = `no Vulkan driver (no ICD manifest in ${ICD_DIRS.slice(0, 2).join(' or ')}): install the GPU vendor's Vulkan driver (NVIDIA's comes with its driver; AMD/Intel: mesa-vulkan-drivers)`;
    if (existsSync(SWIFTSHADER_ICD)) summary += `; for a software GPU (tests only) set VK_ICD_FILENAMES=${SWIFTSHADER_ICD}`;
  } else summary = `Vulkan loader ${loader}, driver(s): ${drivers.map((d) => d.replace(/^.*\//, '')).join(', ')}`;
  return { api: 'vulkan', drivers, loader, summary };
}

function findVulkanLoader(env: NodeJS.ProcessEnv): string | null {
  for (const dir of (env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean)) {
    if (existsSync(join(dir, 'libvulkan.so.1'))) return join(dir, 'libvulkan.so.1');
  }
  try {
    const out = execFileSync('/sbin/ldconfig', ['-p'], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).toString();
    const m = /libvulkan\.so\.1 .*=> (\S+)/.exec(out);
    if (m) return m[1];
  } catch {
    /* no ldconfig: try the usual places */
  }
  for (const f of ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1', '/usr/lib64/libvulkan.so.1', '/usr/lib/libvulkan.so.1']) {
    if (existsSync(f)) return f;
  }
  return null;
}

// Backend selection. 'auto' takes the first that works of tfjs-node-gpu → webgpu (a hardware adapter only)
// → tfjs-node → wasm → cpu and says why each earlier one was skipped; a backend asked for by name must work
// or it is a VdsError. `webgpu` is vds's own engine (src/engine) on the adapter, with TF.js on wasm for the
// small bookkeeping beside it (q, metrics, and the networks the engine does not cover); `webgpu-tfjs` is
// TF.js's own WebGPU backend, kept for comparison.
import { tf } from './tf.ts';
import { VdsError } from '../util/errors.ts';
import { registerWasmKernels } from './wasm-kernels.ts';

import { describeAdapter, driverReport, probeDriverOutput, setupWebGpu, webGpuAdapter, type WebGpuAdapterInfo } from './webgpu.ts';
import type { BackendName } from '../config/types.ts';
import { DAWN_BACKEND_ENV, ENGINE_NAME } from '../engine/name.ts';
import { BACKENDS } from '../config/schema.ts';

export type BackendPref = BackendName;
export const BACKEND_PREFS: readonly BackendPref[] = BACKENDS;
type Concrete = Exclude<BackendPref, 'auto'>;
const AUTO_ORDER: readonly Concrete[] = ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'];
/** Backends that run on a GPU: one run at a time per device, sizes checked against its memory. */
export const GPU_BACKENDS: readonly string[] = ['tensorflow-gpu', 'webgpu', 'webgpu-tfjs'];
/** Backends that run on a WebGPU adapter (its limits bound one buffer). */
export const WEBGPU_BACKENDS: readonly string[] = ['webgpu', 'webgpu-tfjs'];

export interface SelectedBackend {
  name: string; // 'tensorflow-gpu' | 'webgpu' | 'webgpu-tfjs' | 'tensorflow' | 'wasm' | 'cpu'
  gpu: boolean;
  engine?: string; // 'vds-webgpu' where vds's own engine trains the networks it covers (backend webgpu)
  adapter?: WebGpuAdapterInfo; // webgpu: the adapter it runs on
  notes: string[]; // one line per backend tried before the chosen one: why it was skipped
}

export interface BackendAttempt {
  name: Concrete;
  ok: boolean;
  reason?: string; // why it failed
}

let selected: SelectedBackend | null = null;
let lastAttempts: BackendAttempt[] = [];

function message(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0].slice(0, 300);
}

/**
 * The module that provides a backend, imported dynamically so a missing optional dependency is a skip.
 * `explicit`: the backend was named (not tried by 'auto'), so webgpu accepts a software adapter.
 */
async function load(name: Concrete, explicit: boolean): Promise<void> {
  switch (name) {
    case 'webgpu':
      // the engine's adapter must be there (Dawn's null device needs none: `vds bench` measures the CPU side
      // with it); TF.js itself runs on wasm beside it
      if (process.env[DAWN_BACKEND_ENV] !== 'null') await setupWebGpu(!explicit);
      await import('@tensorflow/tfjs-backend-wasm');
      registerWasmKernels();
      break;
    case 'webgpu-tfjs':
      // navigator.gpu must exist before the backend's module loads: it registers itself only then
      await setupWebGpu(!explicit);
      try {
        // @ts-ignore optional dependency
        await import('@tensorflow/tfjs-backend-webgpu');
      } catch (e) {
        throw new Error(`the optional package @tensorflow/tfjs-backend-webgpu is not installed: ${message(e)}`);
      }
      break;
    case 'tensorflow-gpu':
      // @ts-ignore optional dependency, absent where libtensorflow cannot be downloaded
      await import('@tensorflow/tfjs-node-gpu').catch((e) => notInstalled('@tensorflow/tfjs-node-gpu', e));
      break;
    case 'tensorflow':
      // @ts-ignore optional dependency
      await import('@tensorflow/tfjs-node').catch((e) => notInstalled('@tensorflow/tfjs-node', e));
      break;
    case 'wasm':
      await import('@tensorflow/tfjs-backend-wasm');
      registerWasmKernels();
      break;
    case 'cpu':
      await import('@tensorflow/tfjs-backend-cpu');
      break;
  }
}

/** An optional native package that npm left out (its libtensorflow download failed) says so, without paths. */
function notInstalled(pkg: string, e: unknown): never {
  if ((e as NodeJS.ErrnoException)?.code === 'ERR_MODULE_NOT_FOUND' && message(e).includes(`'${pkg}'`)) {
    throw new Error(
      `the optional package ${pkg} is not installed (npm skips it when its libtensorflow download fails; retry with \`npm install ${pkg}@4.22.0\` where that host is reachable)`,
    );
  }
  throw e;
}

const tfName = (name: Concrete): string => ({ 'tensorflow-gpu': 'tensorflow', webgpu: 'wasm', 'webgpu-tfjs': 'webgpu' } as Record<string, string>)[name] ?? name;

async function tryBackend(name: Concrete, explicit: boolean): Promise<void> {
  await load(name, explicit);
  const b = tfName(name);
  if (!tf.findBackendFactory(b)) {
    // e.g. tfjs-node resolved its own copy of tfjs-core: it registered on an engine vds does not use
    throw new Error(`the package loaded but registered no '${b}' backend on vds's @tensorflow/tfjs-core ${tf.version_core}`);
  }
  const ok = await tf.setBackend(b);
  if (!ok) throw new Error(`tf.setBackend('${b}') failed to initialise`);
  await tf.ready();
  applyFlagOverrides();
  // a tiny op proves the backend computes (read asynchronously: webgpu has no synchronous read in Node)
  const t = tf.tidy(() => tf.sum(tf.mul(tf.tensor1d([1, 2, 3]), 2)));
  const v = (await t.data())[0];
  t.dispose();
  if (v !== 12) throw new Error(`sanity op returned ${v}, expected 12`);
}

/**
 * VDS_TFJS_FLAGS="NAME=value,NAME=value": TF.js environment flags (e.g. WEBGPU_CPU_FORWARD=false), for
 * measuring a backend's settings without a code change (applied to every backend tried; values `true`,
 * `false` and numbers are read as such, anything else as text).
 */
function applyFlagOverrides(): void {
  const spec = process.env.VDS_TFJS_FLAGS;
  if (!spec) return;
  for (const part of spec.split(',').filter(Boolean)) {
    const [name, raw] = part.split('=');
    const value = raw === 'true' ? true : raw === 'false' ? false : Number.isFinite(Number(raw)) ? Number(raw) : raw;
    tf.env().set(name.trim(), value);
  }
}

export async function selectBackend(pref: BackendPref | string = 'auto'): Promise<SelectedBackend> {
  if (!(BACKEND_PREFS as readonly string[]).includes(pref)) {
    throw new VdsError(`unknown backend "${pref}"`, { key: 'backend', hint: `one of ${BACKEND_PREFS.join(', ')}` });
  }
  const order: readonly Concrete[] = pref === 'auto' ? AUTO_ORDER : [pref as Concrete];
  const notes: string[] = [];
  lastAttempts = [];
  for (const name of order) {
    try {
      await tryBackend(name, pref !== 'auto');
      lastAttempts.push({ name, ok: true });
      selected = {
        name,
        gpu: GPU_BACKENDS.includes(name),
        notes,
        ...(WEBGPU_BACKENDS.includes(name) && webGpuAdapter() ? { adapter: webGpuAdapter()! } : {}),
        ...(name === 'webgpu' ? { engine: ENGINE_NAME } : {}),
      };
      return selected;
    } catch (e) {
      const reason = message(e);
      lastAttempts.push({ name, ok: false, reason });
      if (pref !== 'auto') {
        throw new VdsError(`backend "${name}" is not available: ${reason}`, {
          key: 'backend',
          hint: hintFor(name),
        });
      }
      // what the drivers printed while webgpu was probed (kept off stderr), on the same line: for --verbose
      const said = name === 'webgpu' && probeDriverOutput() ? ` (while probed, the driver said: ${probeDriverOutput()})` : '';
      notes.push(`${name} skipped: ${reason}${said}`);
    }
  }
  throw new VdsError('no TF.js backend could be initialised', { key: 'backend', hint: notes.join('; ') });
}

function hintFor(name: Concrete): string {
  if (name.startsWith('tensorflow')) return `install @tensorflow/${name === 'tensorflow' ? 'tfjs-node' : 'tfjs-node-gpu'} (it downloads libtensorflow), or use --backend wasm`;
  if (WEBGPU_BACKENDS.includes(name)) return `${driverReport().summary}; \`npx vds doctor\` says more, or use --backend wasm`;
  return 'use --backend auto';
}

/** What the last selectBackend call tried, in order (for `vds doctor`). */
export function backendAttempts(): BackendAttempt[] {
  return lastAttempts.map((a) => ({ ...a }));
}

export interface BackendInfo {
  tfjs: string; // @tensorflow/tfjs-core version
  backend: string; // vds name: tensorflow-gpu | webgpu | webgpu-tfjs | tensorflow | wasm | cpu
  tfBackend: string; // TF.js's name for it (wasm beside vds's engine)
  engine?: string; // vds's own engine, where backend webgpu selected it
  gpu: boolean;
  notes: string[];
  webgpu?: WebGpuAdapterInfo & { summary: string }; // the adapter, its limits and how it was chosen
  wasmSimd?: boolean;
  wasmThreads?: boolean;
}

/** For the environment record of a run. */
export async function backendInfo(): Promise<BackendInfo> {
  const tfBackend = tf.getBackend();
  const info: BackendInfo = {
    tfjs: tf.version_core,
    backend: selected?.name ?? tfBackend,
    tfBackend,
    gpu: selected?.gpu ?? false,
    notes: selected?.notes ?? [],
    ...(selected?.engine ? { engine: selected.engine } : {}),
  };
  if (selected?.adapter) info.webgpu = { ...selected.adapter, summary: describeAdapter(selected.adapter) };
  if (tfBackend === 'wasm') {
    info.wasmSimd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    info.wasmThreads = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
  }
  return info;
}

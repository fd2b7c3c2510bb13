// How much memory a training step needs, whether to recompute residual blocks in the backward pass
// (activation checkpointing, src/tf/recompute.ts) to make it fit, and the pre-flight refusal when even
// that does not fit. The estimate is of the step's peak tensor memory on one replica (the largest share
// of the batch), fitted to tf.profile's peakBytes of real wasm steps (2026-12-01; D ∈ {0,…,20}, batch
// 32–64, widths 16–64, 28×28×1 and 32×32×3 inputs): it is within 0 to +40% of what was measured (never
// below), and linear in the batch, the positions after the stem and the widths.
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import type { ModelConfig } from '../config/types.ts';
import { VdsError } from '../util/errors.ts';
import { webGpuAdapter } from '../tf/webgpu.ts';

export type RecomputeMode = 'auto' | 'on' | 'off';
export const RECOMPUTE_MODES: readonly RecomputeMode[] = ['auto', 'on', 'off'];

const FLOAT = 4;
// floats kept per (sample × position) for each outer / inner channel of a plain block: the activations
// autodiff saves, and the backward pass's gradients of them (TF.js frees those only when the pass ends)
const PLAIN_PER_OUTER = 7.0;
const PLAIN_PER_INNER = 8.5;
// a recomputed block keeps its input and the gradient arriving from its head (~2 floats per outer channel)
const RECOMPUTED_PER_OUTER = 2.1;
// of one plain block's memory, what recomputing a block adds on top (fitted)
const RECOMPUTING_SHARE = 0.5;
// the stem (5×5 conv before 2×2 pooling) and its gradients, per (sample × stem position × outer channel)
const STEM_PER_OUTER = 3.5;
// a wasm instance addresses 4 GiB; keep a margin for the allocator's fragmentation and the weights
const HEADROOM = 0.85;

export interface StepMemory {
  plainBytes: number; // estimated peak of one replica's step without recomputation
  recomputeBytes: number; // with every residual block recomputed
}

/** Peak tensor memory of one replica's train step on `rows` samples of `inputShape` ([H, W, C] or [F]). */
export function estimateStepMemory(model: ModelConfig, inputShape: number[], rows: number): StepMemory {
  const D = model.maxDepth;
  if (model.kind === 'fc') {
    // the toy network: [rows, width] activations, a handful per block
    const perBlock = rows * model.width * FLOAT * (PLAIN_PER_OUTER + PLAIN_PER_INNER);
    return { plainBytes: (D + 1) * perBlock, recomputeBytes: (D + 1) * perBlock };
  }
  const [H, W] = inputShape;
  const stemPositions = (H - 4) * (W - 4);
  const positions = Math.floor((H - 4) / 2) * Math.floor((W - 4) / 2);
  const unit = rows * positions * FLOAT; // bytes of one channel of one activation
  const plainBlock = unit * (PLAIN_PER_OUTER * model.outerWidth + PLAIN_PER_INNER * model.innerWidth);
  const stem = rows * stemPositions * FLOAT * STEM_PER_OUTER * model.outerWidth;
  return {
    plainBytes: stem + D * plainBlock,
    // every block's input, plus part of one block's internals while it is recomputed (the rest of the
    // block's transient memory overlaps with the stem's, which is freed before the blocks run)
    recomputeBytes: stem + D * unit * RECOMPUTED_PER_OUTER * model.outerWidth + (D > 0 ? RECOMPUTING_SHARE * plainBlock : 0),
  };
}

export interface MemoryLimit {
  bytes: number | null; // null: unknown (then nothing is refused)
  what: string; // for messages: "a wasm instance's 4 GiB heap", "GPU 0: 24 GiB", …
}

/** What one replica's step may use on `backend`. */
export function memoryLimit(backend: string): MemoryLimit {
  if (backend === 'wasm') return { bytes: 4 * 2 ** 30, what: "a wasm instance's 4 GiB heap" };
  if (backend === 'tensorflow-gpu') {
    const gpu = gpuMemory();
    return gpu ? { bytes: gpu.bytes, what: `GPU ${gpu.name} (${gib(gpu.bytes)})` } : { bytes: null, what: 'the GPU (its size could not be read with nvidia-smi)' };
  }
  if (backend === 'webgpu' || backend === 'webgpu-tfjs') {
    // WebGPU does not report a device's memory; nvidia-smi does for NVIDIA's (the adapter Dawn chose is
    // assumed to be the first visible one), and a software adapter uses this machine's memory
    const a = webGpuAdapter();
    if (a?.software) return { bytes: os.totalmem(), what: `this machine's ${gib(os.totalmem())} of memory (a software adapter)` };
    const gpu = a && /nvidia/i.test(`${a.vendor} ${a.device} ${a.description}`) ? gpuMemory() : null;
    if (gpu) return { bytes: gpu.bytes, what: `GPU ${gpu.name} (${gib(gpu.bytes)}, from nvidia-smi)` };
    return { bytes: null, what: `WebGPU does not report the memory of ${a ? `the adapter (${a.device})` : 'its adapter'}` };
  }
  return { bytes: os.totalmem(), what: `this machine's ${gib(os.totalmem())} of memory` };
}

/**
 * The largest single tensor of a train step, in bytes: on a GPU through WebGPU one tensor is one buffer,
 * bounded by the adapter's maxBufferSize and, for a kernel to read it, maxStorageBufferBindingSize. In the
 * conv network it is the stem's output before pooling (or a block activation, if wider); the network with
 * fully connected blocks has only [rows, width] ones.
 */
export function largestTensorBytes(model: ModelConfig, inputShape: number[], rows: number): number {
  if (model.kind === 'fc') return rows * Math.max(model.width, inputShape.reduce((a, b) => a * b, 1)) * FLOAT;
  const [H, W, C] = inputShape;
  const stem = rows * (H - 4) * (W - 4) * model.outerWidth * FLOAT;
  return Math.max(stem, rows * H * W * (C ?? 1) * FLOAT);
}

/** The adapter's bound on one tensor (webgpu), or null elsewhere. */
function bufferBound(backend: string): { bytes: number; what: string } | null {
  const a = backend === 'webgpu' || backend === 'webgpu-tfjs' ? webGpuAdapter() : null;
  if (!a) return null;
  const bytes = Math.min(a.maxBufferSize, a.maxStorageBufferBindingSize);
  return { bytes, what: `the WebGPU adapter's largest ${a.maxStorageBufferBindingSize <= a.maxBufferSize ? 'storage binding' : 'buffer'} (${gib(bytes)})` };
}

let gpuRead: { name: string; bytes: number } | null | undefined; // asked once per process

/** The first visible GPU's memory, from nvidia-smi (honouring CUDA_VISIBLE_DEVICES), or null. */
function gpuMemory(): { name: string; bytes: number } | null {
  if (gpuRead === undefined) gpuRead = readGpuMemory();
  return gpuRead;
}

function readGpuMemory(): { name: string; bytes: number } | null {
  try {
    const visible = process.env.CUDA_VISIBLE_DEVICES?.split(',')[0]?.trim();
    const args = ['--query-gpu=index,memory.total', '--format=csv,noheader,nounits', ...(visible ? ['-i', visible] : [])];
    const [index, mib] = execFileSync('nvidia-smi', args, { encoding: 'utf8', timeout: 5000 }).trim().split('\n')[0].split(',').map((s) => s.trim());
    const bytes = Number(mib) * 2 ** 20;
    return Number.isFinite(bytes) && bytes > 0 ? { name: index, bytes } : null;
  } catch {
    return null;
  }
}

/** The wasm instance's heap on this thread (it only grows: its size is the high-water mark), or null. */
export function wasmHeapBytes(backend: unknown): number | null {
  const heap = (backend as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8;
  return heap ? heap.length : null;
}

export const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(bytes < 2 ** 30 ? 2 : 1)} GiB`;

export interface MemoryPlan extends StepMemory {
  recompute: boolean;
  mode: RecomputeMode;
  rows: number; // the largest replica share of a batch
  limitBytes: number | null;
  limit: string;
}

export interface StepShape {
  model: ModelConfig;
  inputShape: number[];
  batchSize: number;
  replicas: number;
  backend: string;
  mode: RecomputeMode;
}

/**
 * Whether to recompute ('auto': only when the plain step would not fit), and the pre-flight check: a run
 * whose step does not fit even so is refused before it writes anything, with the ways out.
 */
export function planMemory(o: StepShape): MemoryPlan {
  const plan = tryPlanMemory(o);
  if (plan instanceof VdsError) throw plan;
  return plan;
}

/** planMemory's plan, or the refusal it would throw (for callers that list what does not fit). */
export function tryPlanMemory(o: StepShape): MemoryPlan | VdsError {
  const rows = Math.ceil(o.batchSize / o.replicas);
  const est = estimateStepMemory(o.model, o.inputShape, rows);
  const limit = memoryLimit(o.backend);
  const fits = (bytes: number) => limit.bytes === null || bytes <= HEADROOM * limit.bytes;
  const recompute = o.mode === 'on' || (o.mode === 'auto' && !fits(est.plainBytes) && o.model.kind === 'conv');
  const plan: MemoryPlan = { ...est, recompute, mode: o.mode, rows, limitBytes: limit.bytes, limit: limit.what };
  const need = recompute ? est.recomputeBytes : est.plainBytes;
  const bound = bufferBound(o.backend);
  const largest = largestTensorBytes(o.model, o.inputShape, rows);
  if (bound && largest > bound.bytes) {
    const rowsFit = Math.floor((bound.bytes / largest) * rows);
    return new VdsError(`one tensor of a training step (~${gib(largest)}: ${rows} rows through the stem) is larger than ${bound.what}`, {
      key: 'train.batchSize',
      hint: rowsFit >= 1 ? `a batch of at most ${rowsFit * o.replicas} (--set train.batchSize=${rowsFit * o.replicas}), or another backend` : 'another backend (--backend wasm)',
    });
  }
  if (!fits(need)) {
    const ways = [
      ...(o.mode === 'off' && fits(est.recomputeBytes) ? [`recompute residual blocks (--recompute auto or on: ~${gib(est.recomputeBytes)})`] : []),
      ...(o.backend === 'wasm' ? [`more data-parallel replicas (--threads N splits each batch N ways; now ${o.replicas})`] : []),
      ...largestBatchThatFits(o, est, rows, fits),
      ...(GPU_NAMES.includes(o.backend) ? [] : ['a GPU backend (tfjs-node-gpu or webgpu; see the README)']),
    ];
    return new VdsError(
      `a training step needs about ${gib(need)} per replica (${rows} rows, depth ${o.model.maxDepth}${recompute ? ', blocks recomputed' : ''}), more than ${gib(HEADROOM * limit.bytes!)} usable of ${limit.what}`,
      { key: 'model.maxDepth / train.batchSize', hint: `ways out: ${ways.join('; ')}` },
    );
  }
  return plan;
}

const GPU_NAMES = ['tensorflow-gpu', 'webgpu', 'webgpu-tfjs'];

/**
 * The batch-size advice: the largest batch whose step fits (the estimate is linear in the rows), or none
 * when not even one row per replica fits.
 */
function largestBatchThatFits(o: StepShape, est: StepMemory, rows: number, fits: (bytes: number) => boolean): string[] {
  const perRow = (o.mode === 'off' ? est.plainBytes : est.recomputeBytes) / rows;
  if (!fits(perRow)) return [];
  let [lo, hi] = [1, rows]; // fits(lo), and nothing from hi on is known to fit: bisect
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(perRow * mid)) lo = mid;
    else hi = mid;
  }
  return lo < rows ? [`a batch of at most ${lo * o.replicas} (--set train.batchSize=${lo * o.replicas})`] : [];
}

/**
 * The fewest replicas from `start` up to `most` whose step fits (`start` when none does: the pre-flight
 * check then refuses it with the ways out).
 */
export function replicasToFit(step: Omit<StepShape, 'replicas'>, start: number, most: number): number {
  for (let n = start; n <= most; n++) if (!(tryPlanMemory({ ...step, replicas: n }) instanceof VdsError)) return n;
  return start;
}

/** --recompute / $VDS_RECOMPUTE (a sweep passes it to its children); 'auto' by default. */
export function resolveRecompute(flag?: string): RecomputeMode {
  const [value, key] = flag !== undefined ? [flag, '--recompute'] : [process.env.VDS_RECOMPUTE || 'auto', 'VDS_RECOMPUTE'];
  if (!RECOMPUTE_MODES.includes(value as RecomputeMode)) throw new VdsError(`expected one of ${RECOMPUTE_MODES.join(', ')}, got "${value}"`, { key });
  return value as RecomputeMode;
}

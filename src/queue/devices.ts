// Which GPUs a worker may give its runs, one each: what CUDA_VISIBLE_DEVICES allows, else what nvidia-smi
// lists. Each concurrent job trains with CUDA_VISIBLE_DEVICES set to its own device, so two runs never
// share a GPU's memory; a machine without GPUs gives none.
import { execFileSync } from 'node:child_process';
import { VdsError } from '../util/errors.ts';

export function visibleGpus(env: NodeJS.ProcessEnv = process.env, listGpus: () => string[] = nvidiaSmiIndices): string[] {
  const set = env.CUDA_VISIBLE_DEVICES;
  if (set !== undefined) {
    // CUDA's conventions: '' or -1 hides every device; the list may hold indices or GPU-… UUIDs
    const ids = set.split(',').map((s) => s.trim()).filter(Boolean);
    return ids[0] === '-1' ? [] : ids;
  }
  return listGpus();
}

function nvidiaSmiIndices(): string[] {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=index', '--format=csv,noheader'], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
    return out.toString().split('\n').map((s) => s.trim()).filter((s) => /^\d+$/.test(s));
  } catch {
    return []; // no nvidia-smi, or no driver: no GPUs
  }
}

/** Concurrency and the device of each slot: one run per GPU where there are GPUs. */
export function planSlots(gpus: string[], concurrency: number | undefined, cpuDefault: number): { concurrency: number; devices: (string | null)[] } {
  if (gpus.length === 0) {
    const n = concurrency ?? cpuDefault;
    return { concurrency: n, devices: Array.from({ length: n }, () => null) };
  }
  const n = concurrency ?? gpus.length;
  if (n > gpus.length) {
    throw new VdsError(`this machine has ${gpus.length} GPU(s) (${gpus.join(', ')}) and each concurrent run needs its own`, {
      key: '--concurrency',
      hint: `use --concurrency ${gpus.length} or less (CUDA_VISIBLE_DEVICES chooses which GPUs the worker uses)`,
    });
  }
  return { concurrency: n, devices: gpus.slice(0, n) };
}

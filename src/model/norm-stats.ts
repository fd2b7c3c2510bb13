// Which BatchNorm statistics eval mode normalises with. The reference's running averages live in the
// network's buffers; precise statistics (SPEC §8) are recomputed for fixed weights from calibration batches
// and kept here, with one (mean, var) pair per depth for a BatchNorm that runs once per depth (the shared
// head's). γ and β are always the network's own.
import { tf, readFloats } from '../tf/tf.ts';

export type { StatisticsKind } from '../config/types.ts';

export interface NormStats {
  mean: tf.Tensor1D; // [C]
  variance: tf.Tensor1D; // [C] (unbiased, as PyTorch's running_var)
}

/** Checkpoint entries are `precise:<key>.mean` / `precise:<key>.var`. */
const PREFIX = 'precise:';

export class PreciseStats {
  constructor(readonly entries: Map<string, NormStats>) {}

  /** `blocks.3.bn2` for a BatchNorm run once per pass; `head.bn@4` for the head's statistics at depth 4. */
  static key(prefix: string, depth: number | undefined): string {
    return depth === undefined ? prefix : `${prefix}@${depth}`;
  }

  /** The pair eval mode uses for `prefix` (at `depth`, for a per-depth BatchNorm). */
  get(prefix: string, depth: number | undefined): NormStats {
    const key = PreciseStats.key(prefix, depth);
    const s = this.entries.get(key);
    if (!s) throw new Error(`no precise BatchNorm statistics for ${key} (calibrated for ${[...this.entries.keys()].join(', ')})`);
    return s;
  }

  async toTensorMap(out: Map<string, { shape: number[]; values: Float32Array }> = new Map()) {
    for (const [key, s] of this.entries) {
      out.set(`${PREFIX}${key}.mean`, { shape: [s.mean.size], values: new Float32Array(await readFloats(s.mean)) });
      out.set(`${PREFIX}${key}.var`, { shape: [s.variance.size], values: new Float32Array(await readFloats(s.variance)) });
    }
    return out;
  }

  /** The precise statistics a checkpoint carries, or null when it has none (written before they existed). */
  static fromTensorMap(tensors: Map<string, { shape: number[]; values: Float32Array }>): PreciseStats | null {
    const entries = new Map<string, NormStats>();
    for (const [name, t] of tensors) {
      if (!name.startsWith(PREFIX) || !name.endsWith('.mean')) continue;
      const key = name.slice(PREFIX.length, -'.mean'.length);
      const v = tensors.get(`${PREFIX}${key}.var`);
      if (!v) continue;
      entries.set(key, { mean: tf.tensor1d(t.values, 'float32'), variance: tf.tensor1d(v.values, 'float32') });
    }
    return entries.size ? new PreciseStats(entries) : null;
  }

  static isEntry(name: string): boolean {
    return name.startsWith(PREFIX);
  }

  dispose(): void {
    for (const s of this.entries.values()) tf.dispose([s.mean, s.variance]);
    this.entries.clear();
  }
}

// The sweep file the sweep, Slurm and queue tests train: configs/spirals.yaml (seconds per run) under a grid
// of methods × max depths × seeds, with a few settings. One writer, so the five tests that use it cannot
// drift apart in what a "tiny sweep" is.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO } from './cli.ts';

export interface SpiralsSweep {
  epochs: number;
  patience?: boolean; // train.patience = epochs, so no run stops early (default true)
  width?: number; // model.width (default 8)
  methods?: string[]; // default learnt and fixed
  depths?: number[]; // model.maxDepth (default [1])
  seeds?: number[]; // default [0]
  set?: Record<string, unknown>; // more settings, or overrides of those above
  base?: string; // default configs/spirals.yaml
  extra?: string[]; // lines after the grid (a `slurm:` section)
}

/**
 * Writes `dir/<file>.yaml` for a sweep called `name` and returns its path. Settings go on one line
 * (`set: {...}`), so an `extra` line's number in the file is fixed: 8 for the first.
 */
export function writeSpiralsSweep(dir: string, file: string, name: string, o: SpiralsSweep): string {
  const set: Record<string, unknown> = { 'train.epochs': o.epochs, ...(o.patience === false ? {} : { 'train.patience': o.epochs }), 'model.width': o.width ?? 8, backend: 'wasm', ...o.set };
  const out = path.join(dir, `${file}.yaml`);
  const list = (xs: readonly unknown[]): string => `[${xs.join(', ')}]`;
  writeFileSync(
    out,
    [
      `name: ${name}`,
      `base: ${JSON.stringify(o.base ?? path.join(REPO, 'configs/spirals.yaml'))}`,
      `set: { ${Object.entries(set).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(', ')} }`,
      'grid:',
      `  method: ${list(o.methods ?? ['learnt', 'fixed'])}`,
      `  maxDepth: ${list(o.depths ?? [1])}`,
      `  seeds: ${list(o.seeds ?? [0])}`,
      ...(o.extra ?? []),
      '',
    ].join('\n'),
  );
  return out;
}

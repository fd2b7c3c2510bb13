// Expanding a sweep into runs. Each run is an ordinary training config; its identity (and run id) is a
// hash of that resolved config, so re-running a sweep finds the runs it already has.
import path from 'node:path';
import { loadConfig } from '../config/index.ts';
import type { VdsConfig } from '../config/types.ts';
import { configIdentity } from '../runs/run-dir.ts';
import { VdsError } from '../util/errors.ts';
import { settingLabel, settingsOf } from './axes.ts';
import type { SweepSpec } from './spec.ts';

export interface PlannedRun {
  id: string; // e.g. mnist-learnt-D10-s0-3fa2c1d9e0, or spirals-learnt-D20-width40-s0-… with a swept setting
  dataset: string;
  method: 'learnt' | 'fixed';
  maxDepth: number;
  seed: number;
  setting: Record<string, unknown>; // the swept config keys' values (sweep/axes.ts); {} when none
  config: VdsConfig; // resolved
  dir: string; // <resultsDir>/<sweep name>/<id>
}

const asSet = (key: string, value: unknown): string => `${key}=${JSON.stringify(value)}`;

export function planSweep(spec: SweepSpec, o: { resultsDir?: string; sets: string[]; backend?: string }): PlannedRun[] {
  const runs: PlannedRun[] = [];
  // a --set of a key the grid varies would be overridden by every run without a word
  const swept = spec.axes.flatMap((a) => a.keys);
  for (const s of o.sets) {
    const key = s.slice(0, Math.max(0, s.indexOf('='))).trim();
    if (swept.includes(key)) throw new VdsError(`${key} is varied by the sweep's grid, so --set ${s} would be overridden in every run`, { file: spec.file, key: '--set' });
  }
  const common = Object.entries(spec.set).map(([k, v]) => asSet(k, v));
  const datasets = spec.grid.dataset ?? [null];
  for (const dataset of datasets) {
    for (const method of spec.grid.method) {
      for (const maxDepth of spec.grid.maxDepth) {
        for (const setting of settingsOf(spec.axes)) {
          for (const seed of spec.grid.seeds) {
            const sets = [
              ...common,
              ...o.sets,
              asSet('experiment', spec.name),
              asSet('model.method', method),
              asSet('model.maxDepth', maxDepth),
              ...Object.entries(setting).map(([k, v]) => asSet(k, v)),
              asSet('seed', seed),
              ...(dataset ? [asSet('data.name', dataset)] : []),
              ...(o.resultsDir ? [asSet('resultsDir', o.resultsDir)] : []),
              ...(o.backend ? [asSet('backend', o.backend)] : []),
            ];
            const { config } = loadConfig({ file: spec.base ?? undefined, sets });
            // the swept values in the name, so runs can be told apart at a glance; none: the id as it always was
            const label = settingLabel(setting);
            const id = `${config.data.name}-${method}-D${maxDepth}${label ? `-${label}` : ''}-s${seed}-${configIdentity(config)}`;
            runs.push({ id, dataset: config.data.name, method, maxDepth, seed, setting, config, dir: path.join(config.resultsDir, spec.name, id) });
          }
        }
      }
    }
  }
  return runs;
}

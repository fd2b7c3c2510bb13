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

/** A run's config; a rule it breaks through a value of the sweep file is blamed on that value's line. */
function resolved(spec: SweepSpec, sets: string[], setting: Record<string, unknown>, fromCli: ReadonlySet<string>): VdsConfig {
  try {
    return loadConfig({ file: spec.base ?? undefined, sets }).config;
  } catch (e) {
    // a value given on the command line (which overrides set:) keeps its --set in the message
    const at = e instanceof VdsError && e.key && !fromCli.has(e.key) ? spec.origins[e.key] : undefined;
    if (!at) throw e;
    const which = Object.keys(setting).length ? ` (in the runs with ${Object.entries(setting).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')})` : '';
    const message = (e as VdsError).message.replace(/ \(from --set [^\n]*?\)(?=\n|$)/, '');
    throw new VdsError(message + which, { file: at.file, key: at.key, hint: (e as VdsError).hint });
  }
}

export function planSweep(spec: SweepSpec, o: { resultsDir?: string; sets: string[]; backend?: string }): PlannedRun[] {
  const runs: PlannedRun[] = [];
  // a --set of a key the grid varies would be overridden by every run without a word
  const swept = spec.axes.flatMap((a) => a.keys);
  const keyOf = (s: string) => s.slice(0, Math.max(0, s.indexOf('='))).trim();
  const cliKeys = new Set(o.sets.map(keyOf));
  for (const s of o.sets) {
    if (swept.includes(keyOf(s))) throw new VdsError(`${keyOf(s)} is varied by the sweep's grid, so --set ${s} would be overridden in every run`, { file: spec.file, key: '--set' });
  }
  const common = Object.entries(spec.set).map(([k, v]) => asSet(k, v));
  // a short name left out of the grid (null) is not set: the base config's value holds
  const g = spec.grid;
  for (const dataset of g.dataset ?? [null]) {
    for (const method of g.method ?? [null]) {
      for (const maxDepth of g.maxDepth ?? [null]) {
        for (const setting of settingsOf(spec.axes)) {
          for (const seed of g.seeds ?? [null]) {
            const sets = [
              ...common,
              ...o.sets,
              asSet('experiment', spec.name),
              ...(method !== null ? [asSet('model.method', method)] : []),
              ...(maxDepth !== null ? [asSet('model.maxDepth', maxDepth)] : []),
              ...Object.entries(setting).map(([k, v]) => asSet(k, v)),
              ...(seed !== null ? [asSet('seed', seed)] : []),
              ...(dataset ? [asSet('data.name', dataset)] : []),
              ...(o.resultsDir ? [asSet('resultsDir', o.resultsDir)] : []),
              ...(o.backend ? [asSet('backend', o.backend)] : []),
            ];
            const config = resolved(spec, sets, setting, cliKeys);
            // the swept values in the name, so runs can be told apart at a glance; none: the id as it always was
            const label = settingLabel(setting);
            const { method: m, maxDepth: D } = config.model;
            const id = `${config.data.name}-${m}-D${D}${label ? `-${label}` : ''}-s${config.seed}-${configIdentity(config)}`;
            runs.push({ id, dataset: config.data.name, method: m, maxDepth: D, seed: config.seed, setting, config, dir: path.join(config.resultsDir, spec.name, id) });
          }
        }
      }
    }
  }
  return runs;
}

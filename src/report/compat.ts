// What may be combined in one report. Runs from different vds versions never are; within a dataset, runs
// must agree on every config key that changes their numbers, except the ones the tables vary over (method,
// depth, seed) and the ones a fixed-depth run ignores (prior, prune rule). A refusal names the key and runs.
import type { VdsConfig } from '../config/types.ts';
import { VdsError } from '../util/errors.ts';
import type { Run } from './load.ts';

/** Keys that do not change a run's numbers or that the report compares over. */
const IGNORED = [/^experiment$/, /^seed$/, /^backend$/, /^resultsDir$/, /^data\.dir$/, /^data\.paths\./, /^model\.method$/, /^model\.maxDepth$/, /^train\.evalBatchSize$/];
/** Keys a fixed-depth network does not use (q is one-hot, KL = 0, nothing to prune). */
const FIXED_IGNORES = [/^prior\./, /^prune\./];

export function flatten(v: unknown, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else out[prefix] = JSON.stringify(v);
  return out;
}

export function comparableKeys(config: VdsConfig): Record<string, string> {
  const flat = flatten(config);
  const skip = config.model.method === 'fixed' ? [...IGNORED, ...FIXED_IGNORES] : IGNORED;
  return Object.fromEntries(Object.entries(flat).filter(([k]) => !skip.some((r) => r.test(k))));
}

function listRuns(ids: string[]): string {
  return ids.length <= 3 ? ids.join(', ') : `${ids.slice(0, 3).join(', ')} and ${ids.length - 3} more`;
}

function versionsOf(r: Run): string[] {
  return [r.env.vdsVersion, r.eval.vdsVersion, r.prune?.vdsVersion].filter((v): v is string => typeof v === 'string');
}

/** Throws unless every run (env.json, eval.json, prune.json) was produced by one vds version. */
export function assertOneVersion(runs: Run[]): string | null {
  const byVersion = new Map<string, string[]>();
  for (const r of runs) for (const v of new Set(versionsOf(r))) byVersion.set(v, [...(byVersion.get(v) ?? []), r.id]);
  if (byVersion.size <= 1) return [...byVersion.keys()][0] ?? null;
  const parts = [...byVersion].map(([v, ids]) => `vds ${v}: ${listRuns(ids)}`);
  throw new VdsError(`refusing to combine results from different vds versions (${parts.join('; ')})`, {
    hint: 'numbers from different versions are not comparable; report each version separately (point results-dir at one experiment) or re-run',
  });
}

/** Throws if two runs of one dataset differ in a key that changes their numbers. */
export function assertComparable(runs: Run[]): void {
  const byDataset = new Map<string, Run[]>();
  for (const r of runs) byDataset.set(r.config.data.name, [...(byDataset.get(r.config.data.name) ?? []), r]);
  for (const [dataset, group] of byDataset) {
    const keys = group.map((r) => comparableKeys(r.config));
    const all = new Set(keys.flatMap((k) => Object.keys(k)));
    for (const key of [...all].sort()) {
      // a key a fixed run ignores is only compared among the runs that use it
      const users = group.map((r, i) => ({ r, v: keys[i][key] })).filter((u) => u.v !== undefined || !(u.r.config.model.method === 'fixed' && FIXED_IGNORES.some((x) => x.test(key))));
      const values = new Map<string, string[]>();
      for (const u of users) values.set(u.v ?? '(unset)', [...(values.get(u.v ?? '(unset)') ?? []), u.r.id]);
      if (values.size > 1) {
        const parts = [...values].map(([v, ids]) => `${v} in ${listRuns(ids)}`);
        throw new VdsError(`runs on dataset ${dataset} cannot be compared: they differ in \`${key}\` (${parts.join('; ')})`, {
          key,
          hint: 'put runs with different settings in different results directories and report them separately',
        });
      }
    }
  }
}

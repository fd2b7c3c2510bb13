// What may be combined in one report. Runs from different vds versions never are; within a dataset, runs
// must agree on every config key that changes their numbers, except the ones the tables vary over (method,
// depth, seed, and the settings a sweep varied: sweep.json's `swept`) and the ones a fixed-depth run ignores
// (prior, prune rule). A results directory holding several such groups is split into sections, each naming
// what it groups; the same config and seed twice is one run.
import type { VdsConfig } from '../config/types.ts';
import { VdsError } from '../util/errors.ts';
import type { Run, SkippedRun } from './load.ts';

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

/** The keys that decide a run's numbers, less `swept` (settings the report puts on an axis instead). */
export function comparableKeys(config: VdsConfig, swept: readonly string[] = []): Record<string, string> {
  const flat = flatten(config);
  const skip = config.model.method === 'fixed' ? [...IGNORED, ...FIXED_IGNORES] : IGNORED;
  return Object.fromEntries(Object.entries(flat).filter(([k]) => !skip.some((r) => r.test(k)) && !swept.includes(k)));
}

/** Every key a sweep of these runs varied, in first-seen order: a column and an axis of the report. */
export function sweptKeysOf(runs: readonly Run[]): string[] {
  return [...new Set(runs.flatMap((r) => r.swept))];
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
    const swept = sweptKeysOf(group);
    const keys = group.map((r) => comparableKeys(r.config, swept));
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

/**
 * Runs of the same config and seed (every key that decides the numbers, not where, on which backend or in
 * which batches they were evaluated) are one sample, not two: the first (by run id) is kept, the others are left out as
 * duplicates, naming the run they repeat.
 */
export function dropDuplicates(runs: Run[]): { runs: Run[]; duplicates: SkippedRun[] } {
  const seen = new Map<string, Run>();
  const duplicates: SkippedRun[] = [];
  for (const r of [...runs].sort((a, b) => a.id.localeCompare(b.id))) {
    const c = r.config;
    const key = JSON.stringify([Object.entries(comparableKeys(c)).sort(), c.seed, c.model.method, c.model.maxDepth]);
    const first = seen.get(key);
    if (first) duplicates.push({ dir: r.dir, id: r.id, state: 'duplicate', reason: `same config and seed as ${first.id} (counted once)` });
    else seen.set(key, r);
  }
  const kept = new Set(seen.values());
  return { runs: runs.filter((r) => kept.has(r)), duplicates };
}

/** One comparable group of runs, reported together: one dataset, one vds version, one setting of every key. */
export interface Section {
  slug: string; // a folder name under report/
  dataset: string;
  describes: string[]; // what sets it apart from the other sections of its dataset ("data.limit=2000", …)
  experiments: string[];
  swept: string[]; // settings its runs' sweeps varied: columns and axes, not reasons to split
  runs: Run[];
}

interface KeyedGroup {
  keys: Record<string, string>;
  runs: Run[];
}

/** Runs grouped by equal `keysOf` (in first-seen order), each group with those keys. */
function groupByKeys(runs: Run[], keysOf: (r: Run) => Record<string, string>): KeyedGroup[] {
  const groups = new Map<string, KeyedGroup>();
  for (const r of runs) {
    const keys = keysOf(r);
    const id = JSON.stringify(Object.entries(keys).sort());
    const g = groups.get(id) ?? { keys, runs: [] };
    g.runs.push(r);
    groups.set(id, g);
  }
  return [...groups.values()];
}

/**
 * Splits runs into comparable sections: per dataset, by vds version and by every key that changes the numbers.
 * Learnt runs that differ only in a key fixed-depth runs ignore (prior, prune rule) get a section each, and the
 * fixed-depth runs that match them serve as the baseline of each.
 */
export function comparableSections(runs: Run[]): Section[] {
  // a sweep's swept settings are axes within its section; runs swept over other keys (or none) are another section
  const shared = (r: Run) => {
    const keys = comparableKeys(r.config, r.swept);
    for (const k of Object.keys(keys)) if (FIXED_IGNORES.some((x) => x.test(k))) delete keys[k];
    return { ...keys, ...(r.swept.length ? { 'swept settings': JSON.stringify(r.swept) } : {}), 'vds version': JSON.stringify(r.env.vdsVersion) };
  };
  const learntOnly = (r: Run) => Object.fromEntries(Object.entries(comparableKeys(r.config, r.swept)).filter(([k]) => FIXED_IGNORES.some((x) => x.test(k))));
  const raw: KeyedGroup[] = [];
  for (const g of groupByKeys(runs, shared)) {
    const fixed = g.runs.filter((r) => r.config.model.method !== 'learnt');
    const variants = groupByKeys(g.runs.filter((r) => r.config.model.method === 'learnt'), learntOnly);
    if (variants.length === 0) raw.push(g);
    for (const v of variants) raw.push({ keys: { ...g.keys, ...v.keys }, runs: [...v.runs, ...fixed] });
  }
  // what tells a section apart: its values of the keys on which the sections of its dataset disagree
  const dataset = (x: { keys: Record<string, string> }) => JSON.parse(x.keys['data.name'] ?? '""') as string;
  const sections: Section[] = raw.map((x) => {
    const siblings = raw.filter((y) => dataset(y) === dataset(x));
    const differing = Object.keys(x.keys).filter((k) => siblings.some((y) => y.keys[k] !== x.keys[k])).sort();
    const experiments = [...new Set(x.runs.map((r) => r.config.experiment))].sort();
    return { slug: '', dataset: dataset(x), describes: differing.map((k) => `${k}=${x.keys[k] ?? '(unset)'}`), experiments, swept: sweptKeysOf(x.runs), runs: x.runs };
  });
  sections.sort((a, b) => a.dataset.localeCompare(b.dataset) || a.experiments.join().localeCompare(b.experiments.join()) || a.describes.join().localeCompare(b.describes.join()));
  const used = new Set<string>();
  for (const sec of sections) {
    const base = `${sec.dataset}-${sec.experiments.join('+')}`.replace(/[^A-Za-z0-9._+-]+/g, '-').slice(0, 80);
    let slug = base;
    for (let i = 2; used.has(slug); i++) slug = `${base}-${i}`;
    used.add(slug);
    sec.slug = slug;
  }
  return sections;
}

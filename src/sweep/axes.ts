// Settings a sweep varies besides method, max depth, dataset and seed: any dotted key of the training config,
// either on its own in `grid:` (crossed with everything else) or in `zip:` (keys that move together: the i-th
// values of each list form one setting). Keys and values are checked against the config schema here, so an
// error names the sweep file's own line rather than a `--set` nobody typed.
import { closest, nodeAt, unknownKeyMessage } from '../config/schema.ts';

/** One swept dimension: `keys` vary together, `values[i]` holding one value per key. */
export interface Axis {
  keys: string[];
  values: unknown[][];
}

/** The short names `grid:` has always taken; they keep their meaning and their run ids. */
export const SHORT_KEYS = ['method', 'maxDepth', 'dataset', 'seeds', 'repeats'];

/** Config keys a sweep sets itself, or that do not change a run: not for the grid. */
const RESERVED: Record<string, string> = {
  'model.method': 'use the short name `method:`',
  'model.maxDepth': 'use the short name `maxDepth:`',
  'data.name': 'use the short name `dataset:`',
  seed: 'use the short name `seeds:` (or `repeats:`)',
  experiment: "a sweep's runs take its `name:` as their experiment",
  resultsDir: 'where runs are written does not change them: use --results-dir',
  backend: 'the backend does not change a run (its id is the same): use --backend',
};

type Fail = (keyPath: (string | number)[], message: string) => never;

/** Why `key` cannot be swept, or null when it is a leaf of the config schema a sweep may vary. */
export function sweptKeyProblem(key: string): string | null {
  if (RESERVED[key]) return `cannot be swept here: ${RESERVED[key]}`;
  const at = key.split('.');
  const node = nodeAt(at);
  if (!node) {
    // an undotted typo is most likely one of the short names (`maxDepht`)
    const near = at.length === 1 ? closest(key, SHORT_KEYS) : null;
    if (near) return `unknown key (did you mean "${near}"?); expected ${SHORT_KEYS.join(', ')} or a dotted config key such as model.width`;
    return unknownKeyMessage(at);
  }
  if (!node.leaf) return `${key} is a section; name one of its keys: ${Object.keys(node.fields).map((k) => `${key}.${k}`).join(', ')}`;
  return null;
}

/** A list of values for `key`, each checked against the schema; `at` is where the list sits in the file. */
function checkedList(v: unknown, key: string, at: (string | number)[], fail: Fail, length?: number): unknown[] {
  if (!Array.isArray(v) || v.length === 0) fail(at, `expected a non-empty list of values for ${key}`);
  const list = v as unknown[];
  if (length !== undefined && list.length !== length) fail(at, `expected ${length} values (as many as the first key of zip:), got ${list.length}`);
  const leaf = nodeAt(key.split('.'));
  list.forEach((x, i) => {
    const msg = leaf?.leaf ? leaf.check(x) : null;
    if (msg) fail([...at, i], msg);
  });
  if (length === undefined && new Set(list.map((x) => JSON.stringify(x))).size !== list.length) fail(at, 'list has duplicates');
  return list;
}

/** Axes from the dotted keys of `grid:` (each its own axis) and the `zip:` section (one axis together). */
export function parseAxes(grid: Record<string, unknown>, zip: unknown, taken: ReadonlySet<string>, fail: Fail): Axis[] {
  const axes: Axis[] = [];
  const seen = new Set<string>();
  const claim = (key: string, at: (string | number)[]) => {
    if (SHORT_KEYS.includes(key)) fail(at, `${key} belongs under grid:; zip: takes dotted config keys`);
    const why = sweptKeyProblem(key);
    if (why) fail(at, why);
    if (taken.has(key)) fail(at, `${key} is also under set:; give it in one place`);
    if (seen.has(key)) fail(at, `${key} is in both grid: and zip:; give it in one place`);
    seen.add(key);
  };
  for (const [key, v] of Object.entries(grid)) {
    if (SHORT_KEYS.includes(key)) continue;
    claim(key, ['grid', key]);
    axes.push({ keys: [key], values: checkedList(v, key, ['grid', key], fail).map((x) => [x]) });
  }
  if (zip === undefined) return axes;
  if (zip === null || typeof zip !== 'object' || Array.isArray(zip) || Object.keys(zip).length < 2) {
    fail(['zip'], 'expected a mapping of two or more dotted config keys to lists of equal length (the i-th values go together)');
  }
  const entries = Object.entries(zip as Record<string, unknown>);
  const lists: unknown[][] = [];
  for (const [key, v] of entries) {
    claim(key, ['zip', key]);
    lists.push(checkedList(v, key, ['zip', key], fail, lists[0]?.length));
  }
  const values = lists[0].map((_, i) => lists.map((l) => l[i]));
  if (new Set(values.map((t) => JSON.stringify(t))).size !== values.length) fail(['zip'], 'the same setting appears twice');
  axes.push({ keys: entries.map(([k]) => k), values });
  return axes;
}

/** Every combination of the axes' settings, as key → value (one empty setting when there are no axes). */
export function settingsOf(axes: readonly Axis[]): Record<string, unknown>[] {
  let out: Record<string, unknown>[] = [{}];
  for (const a of axes) out = out.flatMap((s) => a.values.map((tuple) => ({ ...s, ...Object.fromEntries(a.keys.map((k, i) => [k, tuple[i]])) })));
  return out;
}

/** A setting as a run id part: `width4-noise0.1` (the key's last name and its value, file-name safe). */
export function settingLabel(setting: Record<string, unknown>): string {
  return Object.entries(setting)
    .map(([k, v]) => `${k.slice(k.lastIndexOf('.') + 1)}${(Array.isArray(v) ? v.join('_') : String(v)).replace(/[^A-Za-z0-9.]+/g, '_')}`)
    .join('-');
}

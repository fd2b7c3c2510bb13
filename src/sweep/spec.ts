// A sweep file: a grid of training runs over method × max depth × dataset × seed, and any other config
// setting (sweep/axes.ts), on top of a base training config. Example (configs/paper/mnist.yaml):
//   name: paper-mnist              # runs go to <resultsDir>/paper-mnist/<run-id>/
//   base: ../mnist.yaml            # a `vds train` config, relative to this file
//   set: { train.epochs: 500 }     # dotted overrides applied to every run
//   grid:
//     method: [learnt, fixed]
//     maxDepth: [0, 5, 10]
//     dataset: [mnist]             # optional; default: the base config's data.name
//     seeds: [0, 1, 2, 3]          # or `repeats: 4` for seeds 0..3 (any of these left out: the base config's)
//     train.lr: [0.05, 0.1]        # any dotted config key: crossed with the rest
//   zip:                           # optional: keys that move together (the i-th values form one setting)
//     model.outerWidth: [16, 32]
//     model.innerWidth: [8, 16]
//   slurm: { partition: gpu, gres: gpu:1, time: "12:00:00" }   # optional: `--launcher slurm` (slurm/settings.ts)
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML, { LineCounter, isMap, type Document } from 'yaml';
import { VdsError } from '../util/errors.ts';
import { closest, nodeAt, unknownKeyMessage } from '../config/schema.ts';
import { parseAxes, type Axis } from './axes.ts';
import { parseSlurmSection, type SlurmSettings } from './slurm/settings.ts';

export interface SweepSpec {
  file: string;
  name: string;
  base: string | null; // absolute path of the base config
  set: Record<string, unknown>;
  // null: not in the grid, so every run takes the base config's value (model.method, model.maxDepth, data.name, seed)
  grid: { method: ('learnt' | 'fixed')[] | null; maxDepth: number[] | null; dataset: string[] | null; seeds: number[] | null };
  axes: Axis[]; // the other settings it varies (dotted keys of grid:, and zip:); [] for a grid of short names only
  origins: Record<string, { file: string; key: string }>; // config key → where the sweep file sets it (set:, grid:, zip:)
  slurm: Partial<SlurmSettings>; // only read by `--launcher slurm`
}

const TOP_KEYS = ['name', 'base', 'set', 'grid', 'zip', 'slurm'];

function where(doc: Document, lc: LineCounter, file: string, keyPath: (string | number)[]): string {
  const node = doc.getIn(keyPath, true) as { range?: [number, number, number] } | undefined;
  const range = node?.range ?? (doc.contents as { range?: [number, number, number] } | null)?.range;
  return range ? `${file}:${lc.linePos(range[0]).line}` : file;
}

export function readSweepSpec(file: string): SweepSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new VdsError(`cannot read sweep file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file });
  }
  return parseSweepSpec(text, file);
}

/** Where a mistake at a key path is reported: a file and its line, or a command-line flag (sweep/cli-grid.ts). */
export type Blame = (keyPath: (string | number)[]) => { file?: string; key: string };

/** A sweep file's text; `blame`, when given, says where its mistakes come from instead of the file's lines. */
export function parseSweepSpec(text: string, file: string, blame?: Blame): SweepSpec {
  const lc = new LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter: lc, prettyErrors: false });
  if (doc.errors.length) {
    const err = doc.errors[0];
    throw new VdsError(`YAML syntax error: ${err.message.split('\n')[0]}`, { file: `${file}:${lc.linePos(err.pos[0]).line}` });
  }
  if (!isMap(doc.contents)) throw new VdsError('expected a mapping with name, base, set and grid', { file });
  const raw = doc.toJS() as Record<string, unknown>;
  const fail = (keyPath: (string | number)[], message: string): never => {
    throw new VdsError(message, blame ? blame(keyPath) : { file: where(doc, lc, file, keyPath), key: keyPath.join('.') });
  };
  const unknownOf = (k: string, keys: readonly string[]) => {
    const near = closest(k, keys);
    return `unknown key${near ? ` (did you mean "${near}"?)` : ''}; expected one of ${keys.join(', ')}`;
  };
  // a training config given where a sweep file belongs (`vds sweep --config configs/spirals.yaml`)
  if (!blame && raw.grid === undefined && Object.keys(raw).some((k) => !TOP_KEYS.includes(k) && nodeAt([k]))) {
    throw new VdsError('is a training config, not a sweep file', {
      file,
      hint: `vary it from the command line (vds sweep --config ${file} --grid model.width=4,8 --grid seeds=0,1), or write a sweep file that names it as base: (README, "Sweeping any setting")`,
    });
  }
  for (const k of Object.keys(raw)) if (!TOP_KEYS.includes(k)) fail([k], unknownOf(k, TOP_KEYS));
  const name = raw.name;
  if (typeof name !== 'string' || !/^[A-Za-z0-9._-]+$/.test(name)) fail(['name'], 'expected a name of letters, digits, ".", "_" or "-"');
  let base: string | null = null;
  if (raw.base !== undefined) {
    if (typeof raw.base !== 'string') fail(['base'], 'expected the path of a training config');
    base = path.resolve(path.dirname(file), raw.base as string);
    if (!existsSync(base)) fail(['base'], `config file not found: ${base} (base: is relative to the sweep file's directory)`);
  }
  const set = (raw.set ?? {}) as Record<string, unknown>;
  if (typeof set !== 'object' || Array.isArray(set)) fail(['set'], 'expected a mapping of dotted keys to values');
  // checked here, against the sweep file's own lines (loadConfig would blame a `--set` nobody typed)
  for (const k of Object.keys(set)) if (!nodeAt(k.split('.'))) fail(['set', k], unknownKeyMessage(k.split('.')));
  const grid = raw.grid as Record<string, unknown> | undefined;
  if (!grid || typeof grid !== 'object') fail(['grid'], 'expected a mapping with method, maxDepth and seeds (or repeats)');
  const axes = parseAxes(grid!, raw.zip, new Set(Object.keys(set)), fail);
  // so a cross-field rule a run breaks (checked when the grid is expanded) names this file's line, not a --set
  const origins: SweepSpec['origins'] = {};
  const origin = (section: string, key: string) => {
    const b = blame?.([section, key]);
    origins[key] = b ? { file: b.file ?? '', key: b.key } : { file: where(doc, lc, file, [section, key]), key: `${section}.${key}` };
  };
  for (const k of Object.keys(set)) origin('set', k);
  for (const a of axes) for (const k of a.keys) origin(k in grid! ? 'grid' : 'zip', k);

  const list = <T>(key: string, ok: (v: unknown) => boolean, expected: string): T[] => {
    const v = grid![key];
    if (!Array.isArray(v) || v.length === 0) fail(['grid', key], `expected a non-empty list of ${expected}`);
    (v as unknown[]).forEach((x, i) => ok(x) || fail(['grid', key, i], `expected ${expected}, got ${JSON.stringify(x)}`));
    if (new Set(v as unknown[]).size !== (v as unknown[]).length) fail(['grid', key], 'list has duplicates');
    return v as T[];
  };
  const isDepth = (x: unknown) => Number.isInteger(x) && (x as number) >= 0;
  const method = grid!.method === undefined ? null : list<'learnt' | 'fixed'>('method', (x) => x === 'learnt' || x === 'fixed', '"learnt" or "fixed"');
  const maxDepth = grid!.maxDepth === undefined ? null : list<number>('maxDepth', isDepth, 'whole numbers ≥ 0');
  const dataset = grid!.dataset === undefined ? null : list<string>('dataset', (x) => typeof x === 'string', 'dataset names');
  let seeds: number[] | null = null;
  if (grid!.seeds !== undefined && grid!.repeats !== undefined) fail(['grid', 'repeats'], 'give seeds or repeats, not both');
  if (grid!.repeats !== undefined) {
    const r = grid!.repeats;
    if (!Number.isInteger(r) || (r as number) < 1) fail(['grid', 'repeats'], 'expected a whole number ≥ 1');
    seeds = Array.from({ length: r as number }, (_, i) => i);
  } else if (grid!.seeds !== undefined) {
    seeds = list<number>('seeds', isDepth, 'whole numbers ≥ 0');
  }
  if (!method && !maxDepth && !dataset && !seeds && !axes.length) fail(['grid'], 'expected something to vary: method, maxDepth, dataset, seeds (or repeats), or a dotted config key');
  const slurm = raw.slurm === undefined ? {} : parseSlurmSection(raw.slurm, fail);
  return { file, name: name as string, base, set, grid: { method, maxDepth, dataset, seeds }, axes, origins, slurm };
}

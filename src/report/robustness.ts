// The DUN protocol's robustness checks in the report (robustness.json from `vds eval`): OOD detection AUROC
// and rotated-image accuracy / LL / ECE, per dataset × method × depth over seeds, under both sets of
// BatchNorm statistics; a group counts only the runs that have the check.
import { datasetName } from './names.ts';
import { STATISTICS } from '../config/schema.ts';
import type { StatisticsKind } from '../runs/layout.ts';
import { deepestLearnt, bestFixed, type Group, type Setting } from './aggregate.ts';
import type { Series } from './plot/chart.ts';
import type { Figure } from './figures/types.ts';
import { seedsNote } from './figures/types.ts';
import { stat, type Stat } from './stats.ts';
import { settingCols, type Table } from './tables.ts';

export interface RobustnessRow {
  dataset: string;
  setting: Setting; // the swept keys' values of its group
  method: 'learnt' | 'fixed';
  maxDepth: number;
  check: string; // 'ood → <target>' or 'rotation <deg>°'
  degrees: number | null;
  runs: number;
  by: Record<StatisticsKind, { auroc: Stat; accuracy: Stat; logLikelihood: Stat; ece10: Stat }>;
}

const none: Stat = { mean: NaN, std: null, n: 0 };

export function robustnessRows(groups: Group[]): RobustnessRow[] {
  const rows: RobustnessRow[] = [];
  for (const g of groups) {
    const rs = g.runs.flatMap((r) => (r.robustness ? [r.robustness] : []));
    if (!rs.length) continue;
    const targets = [...new Set(rs.flatMap((r) => r.ood.map((o) => o.target)))].sort();
    const angles = [...new Set(rs.flatMap((r) => r.rotations.map((o) => o.degrees)))].sort((a, b) => a - b);
    const base = { dataset: g.dataset, setting: g.setting, method: g.method, maxDepth: g.maxDepth };
    for (const t of targets) {
      const per = (k: StatisticsKind) => rs.flatMap((r) => r.byStatistics[k]?.ood.filter((o) => o.target === t) ?? []);
      rows.push({ ...base, check: `ood → ${t}`, degrees: null, runs: per(g.statistics).length, by: {
        precise: { auroc: stat(per('precise').map((o) => o.auroc)), accuracy: none, logLikelihood: none, ece10: none },
        running: { auroc: stat(per('running').map((o) => o.auroc)), accuracy: none, logLikelihood: none, ece10: none },
      } });
    }
    for (const a of angles) {
      const per = (k: StatisticsKind) => rs.flatMap((r) => r.byStatistics[k]?.rotations.filter((o) => o.degrees === a) ?? []);
      const m = (k: StatisticsKind) => ({ auroc: none, accuracy: stat(per(k).map((o) => o.accuracy)), logLikelihood: stat(per(k).map((o) => o.logLikelihood)), ece10: stat(per(k).map((o) => o.ece10)) });
      rows.push({ ...base, check: `rotation ${a}°`, degrees: a, runs: per(g.statistics).length, by: { precise: m('precise'), running: m('running') } });
    }
  }
  return rows;
}

const num = (v: number | null) => (v === null || !Number.isFinite(v) ? null : v);

export function robustnessTable(rows: RobustnessRow[], swept: readonly string[] = []): Table {
  const columns = ['dataset', ...swept, 'method', 'max_depth', 'check', 'degrees', 'runs'];
  for (const k of ['precise', 'running']) for (const f of ['auroc', 'accuracy', 'log_likelihood', 'ece10']) columns.push(`${k}_${f}_mean`, `${k}_${f}_std`);
  return {
    columns,
    rows: rows.map((r) => {
      const out: Record<string, string | number | null> = { dataset: r.dataset, ...settingCols(swept, r.setting), method: r.method, max_depth: r.maxDepth, check: r.check, degrees: r.degrees, runs: r.runs };
      for (const k of STATISTICS) {
        const b = r.by[k];
        for (const [f, s] of [['auroc', b.auroc], ['accuracy', b.accuracy], ['log_likelihood', b.logLikelihood], ['ece10', b.ece10]] as const) {
          out[`${k}_${f}_mean`] = num(s.mean);
          out[`${k}_${f}_std`] = num(s.std);
        }
      }
      return out;
    }),
  };
}

/** Accuracy on rotated test images against the angle: the deepest learnt network and the best fixed depth. */
export function rotationFigure(groups: Group[], rows: RobustnessRow[], dataset: string): Figure | null {
  const l = deepestLearnt(groups, dataset);
  const f = bestFixed(groups, dataset, l ? l.maxDepth : Infinity);
  const series: Series[] = [];
  const add = (g: Group | null, label: string, kind: StatisticsKind, dashed: boolean, color: string) => {
    if (!g) return;
    const pts = rows.filter((r) => r.dataset === dataset && r.method === g.method && r.maxDepth === g.maxDepth && r.degrees !== null && Number.isFinite(r.by[kind].accuracy.mean));
    if (pts.length) series.push({ label, kind: 'line', dashed, color, marker: g.method === 'learnt' ? 'circle' : 'square', points: pts.map((r) => ({ x: r.degrees!, y: 100 * r.by[kind].accuracy.mean, err: r.by[kind].accuracy.std === null ? undefined : 100 * r.by[kind].accuracy.std! })) });
  };
  const sel = l?.statistics ?? f?.statistics ?? 'precise';
  add(l, `learnt D=${l?.maxDepth}, marginal over depths`, sel, false, '#009E73');
  add(f, `best fixed depth d=${f?.maxDepth}`, sel, false, '#0072B2');
  if (sel === 'precise') add(l, `learnt D=${l?.maxDepth}, running BN statistics`, 'running', true, '#E69F00');
  if (!series.length) return null;
  // the caption names what is drawn: the best fixed depth only when its runs have rotation results
  const hasFixed = series.some((x) => x.label.startsWith('best fixed'));
  const hasLearnt = series.some((x) => x.label.startsWith('learnt'));
  const drawn = hasLearnt && hasFixed ? 'learnt depth against the best fixed depth' : hasLearnt ? 'learnt depth' : 'the best fixed depth';
  const others = series.some((x) => x.label.endsWith('running BN statistics')) ? `; dashed: the learnt network with the reference's running statistics` : '';
  const missing = !f ? '' : hasFixed ? '' : ` The best fixed depth (d=${f.maxDepth}) has no rotation results: run \`vds eval RUN --rotations\` on its runs to add it.`;
  return {
    name: `rotations-${dataset}`,
    caption: `Accuracy on the ${datasetName(dataset)} test split rotated by 0°…180° (bilinear), ${drawn} (${sel} BatchNorm statistics${others}).${missing}`,
    spec: {
      title: `Rotated test images — ${datasetName(dataset)}`,
      xLabel: 'rotation (degrees, counter-clockwise)',
      // ticks every 30° from the unrotated split to upside down, with room at both ends for the markers
      xDomain: { min: -6, max: 186 },
      xTickLabels: [0, 30, 60, 90, 120, 150, 180].map((x) => ({ x, label: String(x) })),
      yLabel: 'test accuracy (%)',
      yMin: 0,
      series,
      note: seedsNote([l, f].filter((g): g is Group => g !== null).map((g) => g.runs.filter((r) => r.robustness).length || 1)),
    },
  };
}

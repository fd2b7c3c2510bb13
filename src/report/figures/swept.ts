// A sweep over a setting other than depth (data amount, spiral length, width, lr …): the learnt depth (E_q[d]
// and d*), test accuracy and test log-likelihood against that setting, one line per method and max depth (and
// per value of any other swept setting), mean ± std over seeds. The paper's "learnt depth vs data / complexity
// / width" figures.
import { datasetName } from '../names.ts';
import type { Group, Setting } from '../aggregate.ts';
import type { Point, Series } from '../plot/chart.ts';
import { PALETTE } from '../plot/svg.ts';
import type { Stat } from '../stats.ts';
import type { Figure } from './types.ts';
import { seedsNote } from './types.ts';

/** Where each value of `key` sits on the x axis: itself when every value is a number, else its rank. */
function xAxis(groups: Group[], key: string): { x: (v: unknown) => number; ticks?: { x: number; label: string }[] } {
  const values = groups.map((g) => g.setting[key]);
  if (values.every((v) => typeof v === 'number')) return { x: (v) => v as number };
  const labels = [...new Set(values.map((v) => JSON.stringify(v)))].sort();
  return { x: (v) => labels.indexOf(JSON.stringify(v)), ticks: labels.map((l, i) => ({ x: i, label: l.replace(/^"|"$/g, '') })) };
}

/** The other swept settings of a group, as a legend suffix ("", or ", data.spirals.noise=0.1"). */
function others(setting: Setting, key: string): string {
  return Object.entries(setting)
    .filter(([k]) => k !== key)
    .map(([k, v]) => `, ${k}=${JSON.stringify(v)}`)
    .join('');
}

/** Groups that share everything but `key`, each such line's groups ordered along x. */
function lines(groups: Group[], key: string, x: (v: unknown) => number): { label: string; groups: Group[] }[] {
  const byLine = new Map<string, { label: string; groups: Group[] }>();
  for (const g of groups) {
    const label = `${g.method === 'learnt' ? `learnt D=${g.maxDepth}` : `fixed d=${g.maxDepth}`}${others(g.setting, key)}`;
    const line = byLine.get(label) ?? { label, groups: [] };
    line.groups.push(g);
    byLine.set(label, line);
  }
  for (const l of byLine.values()) l.groups.sort((a, b) => x(a.setting[key]) - x(b.setting[key]));
  return [...byLine.values()];
}

const point = (x: number, s: Stat, k = 1): Point => ({ x, y: k * s.mean, err: s.std === null ? undefined : k * s.std });

export function sweptFigures(groups: Group[], dataset: string, key: string): Figure[] {
  const gs = groups.filter((g) => g.dataset === dataset && key in g.setting);
  if (gs.length === 0) return [];
  const { x, ticks } = xAxis(gs, key);
  const ds = datasetName(dataset);
  const common = { xLabel: key, xTickLabels: ticks, note: seedsNote(gs.map((g) => g.runs.length)) };
  const figures: Figure[] = [];
  const learnt = lines(gs.filter((g) => g.method === 'learnt'), key, x);
  if (learnt.length) {
    // one colour per line: E_q[d] solid, d* dashed
    const series: Series[] = learnt.flatMap((l, i) => [
      { label: `E_q[d], ${l.label}`, kind: 'line' as const, color: PALETTE[i % PALETTE.length], marker: 'circle' as const, points: l.groups.map((g) => point(x(g.setting[key]), g.expectedDepth)) },
      { label: `d* (${l.groups[0].runs[0].config.prune.rule}), ${l.label}`, kind: 'line' as const, color: PALETTE[i % PALETTE.length], dashed: true, marker: 'square' as const, points: l.groups.map((g) => point(x(g.setting[key]), g.pruneDepth)) },
    ]);
    figures.push({
      name: `sweep-learnt-depth-${key}-${dataset}`,
      caption: `Learnt depth (E_q[d] and d*) against ${key}, ${ds}: one line per max depth D.`,
      spec: { ...common, title: `Learnt depth vs ${key} — ${ds}`, yLabel: 'learnt depth (residual blocks)', yMin: 0, series },
    });
  }
  const all = lines(gs, key, x);
  const metric = (what: 'accuracy' | 'loglik'): Figure => ({
    name: `sweep-${what}-${key}-${dataset}`,
    caption: `Test ${what === 'accuracy' ? 'accuracy' : 'log-likelihood'} against ${key}, ${ds}: the learnt network's full marginal and fixed-depth networks, one line per method and depth.`,
    spec: {
      ...common,
      title: `Test ${what === 'accuracy' ? 'accuracy' : 'log-likelihood'} vs ${key} — ${ds}`,
      yLabel: what === 'accuracy' ? 'test accuracy (%)' : 'test log-likelihood (nats per example)',
      series: all.map((l) => ({
        label: l.label,
        kind: 'line' as const,
        marker: l.groups[0].method === 'learnt' ? ('circle' as const) : ('square' as const),
        dashed: l.groups[0].method === 'fixed',
        points: l.groups.map((g) => (what === 'accuracy' ? point(x(g.setting[key]), g.test.accuracy, 100) : point(x(g.setting[key]), g.test.logLikelihood))),
      })),
    },
  });
  figures.push(metric('accuracy'), metric('loglik'));
  return figures;
}

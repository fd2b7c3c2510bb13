// Test log-likelihood and test error against depth for fixed-depth networks, with the band (mean ± std) of
// the learnt network with the largest D, full marginal and pruned — with the statistics that selected the runs
// (precise by default); the reference's running statistics as dashed second series where they were computed.
import { datasetName } from '../names.ts';
import { deepestLearnt, type Group, type MetricStats } from '../aggregate.ts';
import type { Band } from '../plot/chart.ts';
import type { Stat } from '../stats.ts';
import type { Figure } from './types.ts';
import { seedsNote } from './types.ts';

function band(label: string, s: Stat, k: number, color: string): Band {
  const sd = s.std ?? 0;
  return { label, lo: k * (s.mean - sd), hi: k * (s.mean + sd), mid: k * s.mean, color };
}

function curve(groups: Group[], dataset: string, which: 'll' | 'error'): Figure | null {
  const fixed = groups.filter((g) => g.dataset === dataset && g.method === 'fixed');
  const learnt = deepestLearnt(groups, dataset);
  if (fixed.length === 0) return null;
  const pick = (m: MetricStats) => (which === 'll' ? m.logLikelihood : m.error);
  const k = which === 'll' ? 1 : 100;
  const bands: Band[] = [];
  const sel = fixed[0].statistics;
  const ref = sel === 'precise' && fixed.every((g) => g.by.running.test) ? fixed : [];
  const refLearnt = sel === 'precise' && learnt?.by.running.test ? learnt.by.running.test : null;
  if (learnt) {
    // pruned at d* = D is the full network: one band that says so, not a second one hiding the first
    const same = pick(learnt.pruned).mean === pick(learnt.test).mean && pick(learnt.pruned).std === pick(learnt.test).std;
    bands.push(band(`learnt D=${learnt.maxDepth}, full marginal${same ? ' (= pruned: d* = D)' : ''}`, pick(learnt.test), k, '#009E73'));
    if (!same) bands.push(band(`learnt D=${learnt.maxDepth}, pruned to d*`, pick(learnt.pruned), k, '#CC79A7'));
    if (refLearnt) bands.push(band(`learnt D=${learnt.maxDepth}, full marginal, running BN statistics`, pick(refLearnt), k, '#E69F00'));
  }
  const what = which === 'll' ? 'test log-likelihood' : 'test error';
  const statsLabel = sel === 'precise' ? 'precise BN statistics' : 'running BN statistics';
  return {
    name: `depth-${which === 'll' ? 'loglik' : 'error'}-${dataset}`,
    caption: `${what[0].toUpperCase()}${what.slice(1)} of fixed-depth networks against their depth, ${datasetName(dataset)}${learnt ? `, with the learnt network (D = ${learnt.maxDepth}) as a band` : ''}.`,
    spec: {
      title: `${what[0].toUpperCase()}${what.slice(1)} vs depth — ${datasetName(dataset)}`,
      xLabel: 'depth d of the fixed-depth network (residual blocks)',
      yLabel: which === 'll' ? 'test log-likelihood (nats per example)' : 'test error (%)',
      xInteger: true,
      series: [
        {
          label: `fixed depth (${statsLabel})`,
          kind: 'line',
          color: '#0072B2',
          points: fixed.map((g) => ({ x: g.maxDepth, y: k * pick(g.test).mean, err: pick(g.test).std === null ? undefined : k * pick(g.test).std! })),
        },
        ...(ref.length
          ? [{ label: 'fixed depth (running BN statistics, reference)', kind: 'line' as const, color: '#D55E00', dashed: true, marker: 'square' as const, points: ref.map((g) => ({ x: g.maxDepth, y: k * pick(g.by.running.test!).mean, err: pick(g.by.running.test!).std === null ? undefined : k * pick(g.by.running.test!).std! })) }]
          : []),
      ],
      bands,
      note: seedsNote([...fixed, ...(learnt ? [learnt] : [])].map((g) => g.runs.length)),
    },
  };
}

export function depthCurveFigures(groups: Group[], dataset: string): Figure[] {
  return [curve(groups, dataset, 'll'), curve(groups, dataset, 'error')].filter((f): f is Figure => f !== null);
}

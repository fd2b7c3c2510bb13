// Reliability diagram: accuracy against confidence (10 bins, pooled over seeds) of the learnt network's full
// marginal (largest D) and of the best fixed-depth network chosen on validation, with the statistics that
// selected the runs; plus the learnt marginal under the reference's running statistics when it was computed.
import { datasetName } from '../names.ts';
import { bestFixed, deepestLearnt, poolBins, predictorsUnder, type Group } from '../aggregate.ts';
import type { Series } from '../plot/chart.ts';
import type { ReliabilitySeries } from '../tables.ts';
import type { Figure } from './types.ts';

export function reliabilitySeries(groups: Group[], dataset: string): ReliabilitySeries[] {
  const out: ReliabilitySeries[] = [];
  const l = deepestLearnt(groups, dataset);
  if (l) out.push({ dataset, predictor: `learnt D=${l.maxDepth} (full marginal)`, depth: l.maxDepth, bins: poolBins(l.runs.map((r) => r.eval.marginal.reliability10 ?? [])), examples: l.runs.map((r) => r.eval.marginal.n) });
  if (l && l.statistics === 'precise' && l.runs.every((r) => predictorsUnder(r.eval, 'running'))) {
    const bins = poolBins(l.runs.map((r) => predictorsUnder(r.eval, 'running')!.marginal.reliability10 ?? []));
    out.push({ dataset, predictor: `learnt D=${l.maxDepth} (full marginal, running BN statistics)`, depth: l.maxDepth, bins, examples: l.runs.map((r) => r.eval.marginal.n) });
  }
  const f = bestFixed(groups, dataset, l ? l.maxDepth : Infinity);
  if (f) out.push({ dataset, predictor: `best fixed depth d=${f.maxDepth}`, depth: f.maxDepth, bins: poolBins(f.runs.map((r) => r.eval.marginal.reliability10 ?? [])), examples: f.runs.map((r) => r.eval.marginal.n) });
  return out.filter((s) => s.bins.length > 0);
}

/** "2 seeds × 10,000 test images, pooled" — what a series pools, not the sum of its counts as if one test set. */
export function pooledLabel(examples: number[]): string {
  const n = examples.length;
  const lo = Math.min(...examples);
  const hi = Math.max(...examples);
  const size = lo === hi ? lo.toLocaleString('en-US') : `${lo.toLocaleString('en-US')}–${hi.toLocaleString('en-US')}`;
  return n === 1 ? `1 seed, ${size} test images` : `${n} seeds × ${size} test images, pooled`;
}

export function reliabilityFigure(series: ReliabilitySeries[], dataset: string): Figure | null {
  if (series.length === 0) return null;
  const markers: Series['marker'][] = ['circle', 'triangle', 'square'];
  return {
    name: `reliability-${dataset}`,
    caption: `Reliability diagram, ${datasetName(dataset)}: accuracy against top-label confidence in 10 equal-width bins (empty bins omitted); dashed grey: perfect calibration.`,
    spec: {
      title: `Reliability — ${datasetName(dataset)}`,
      xLabel: 'confidence (top-label probability)',
      yLabel: 'accuracy in bin',
      xDomain: { min: 0, max: 1 },
      yDomain: { min: 0, max: 1 },
      diagonal: true,
      series: series.map((s, i) => ({
        label: `${s.predictor}, ${pooledLabel(s.examples)}`,
        kind: 'line' as const,
        marker: markers[i % markers.length],
        dashed: i > 0,
        points: s.bins.filter((b) => b.count > 0).map((b) => ({ x: b.confidence, y: b.accuracy })),
      })),
      note: 'test split; bins pooled over seeds',
    },
  };
}

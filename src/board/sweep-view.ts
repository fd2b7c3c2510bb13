// A sweep as the board shows it: the depth curves of `vds report` (test error and log-likelihood against D,
// learnt vs fixed, mean ± std over seeds) and its headline rows, computed by the report's own loading and
// aggregation over the sweep's finished runs — not a second copy of that code.
import { loadResults } from '../report/load.ts';
import { comparableSections, dropDuplicates } from '../report/compat.ts';
import { groupRuns, headline } from '../report/aggregate.ts';
import { depthCurveFigures } from '../report/figures/depth-curves.ts';
import { sweptFigures } from '../report/figures/swept.ts';
import type { NamedChart } from './run-view.ts';

export interface SweepView {
  charts: NamedChart[];
  headline: { dataset: string; maxDepth: number; predictor: string; depth: number; seeds: number; accuracy: number | null; logLikelihood: number | null }[];
  finished: number;
  note: string | null; // why there is nothing to show yet
}

export function sweepView(sweepDir: string): SweepView {
  let runs;
  try {
    runs = dropDuplicates(loadResults(sweepDir).runs).runs;
  } catch {
    return { charts: [], headline: [], finished: 0, note: 'no run directories yet' };
  }
  if (!runs.length) return { charts: [], headline: [], finished: 0, note: 'no finished runs yet: the depth curves appear as runs finish' };
  const charts: NamedChart[] = [];
  const rows: SweepView['headline'] = [];
  const sections = comparableSections(runs);
  for (const sec of sections) {
    const groups = groupRuns(sec.runs, sec.swept);
    const suffix = sections.filter((s) => s.dataset === sec.dataset).length > 1 ? ` (${sec.describes.join(', ')})` : '';
    // a sweep over other settings: the learnt depth, accuracy and LL against each (depth curves would mix them)
    const figures = sec.swept.length ? sec.swept.flatMap((k) => sweptFigures(groups, sec.dataset, k)) : depthCurveFigures(groups, sec.dataset);
    for (const f of figures) charts.push({ name: `${f.name}${suffix ? `-${sec.slug}` : ''}`, spec: { ...f.spec, title: f.spec.title + suffix } });
    for (const h of headline(groups)) {
      const setting = Object.entries(h.setting).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ');
      rows.push({ dataset: setting ? `${h.dataset} (${setting})` : h.dataset, maxDepth: h.maxDepth, predictor: h.predictor, depth: h.depth.mean, seeds: h.seeds, accuracy: h.metrics?.accuracy.mean ?? null, logLikelihood: h.metrics?.logLikelihood.mean ?? null });
    }
  }
  const note = charts.length ? null : 'no fixed-depth runs finished yet: the depth curves need them';
  return { charts, headline: rows, finished: runs.length, note };
}

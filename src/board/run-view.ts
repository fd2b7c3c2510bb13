// One run as the board shows it: its summary, its per-epoch curves as chart specs (the same ChartSpec the
// report's figures use, drawn in the browser), its reliability diagram and pruning numbers when they exist.
// Runs from older vds versions lack the precise/running columns: their curves fall back to the columns
// they have.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { RUN_FILES, type EvalRecord, type PruneRecord } from '../runs/layout.ts';
import { predictorsUnder } from '../report/aggregate.ts';
import { HEAT_COLORS, type ChartSpec, type Series } from '../report/plot/chart.ts';
import { column, type MetricsTable } from '../runs/metrics-csv.ts';
import { readMetrics, summarise, type RunSummary } from './tree.ts';

export interface NamedChart {
  name: string; // stable key: the page and the tests find a chart by it
  spec: ChartSpec;
}

export interface RunView {
  summary: RunSummary;
  epochs: number; // complete rows of metrics.csv
  charts: NamedChart[];
  prune: { depth: number; nothingPruned: boolean; full: { accuracy: number; logLikelihood: number }; pruned: { accuracy: number; logLikelihood: number }; speedup: { median: number; min: number; max: number } | null } | null;
  error: string | null;
}

const PRECISE = '#0072B2';
const RUNNING = '#D55E00';

function line(t: MetricsTable, col: string, label: string, color: string, dashed = false): Series | null {
  const ys = column(t, col);
  const epochs = column(t, 'epoch');
  const points = ys.flatMap((y, i) => (y === null || epochs[i] === null || !Number.isFinite(y) ? [] : [{ x: epochs[i]!, y }]));
  return points.length ? { label, kind: 'line', points, color, dashed } : null;
}

const some = (xs: (Series | null)[]): Series[] => xs.filter((s): s is Series => s !== null);

/** Validation curves under both statistics, or the one column an older run has. */
function bothStatistics(t: MetricsTable, what: 'acc' | 'll', label: string): Series[] {
  const precise = line(t, `val_${what}_precise`, `validation ${label}, precise BN statistics`, PRECISE);
  const running = line(t, `val_${what}_running`, `validation ${label}, running BN statistics (reference)`, RUNNING, true);
  if (precise || running) return some([precise, running]);
  return some([line(t, `val_${what}`, `validation ${label}`, PRECISE)]);
}

function curves(t: MetricsTable, learnt: boolean): NamedChart[] {
  const xLabel = 'epoch';
  // the validation ELBO turned into a loss, so that both curves go down as training improves
  const negElbo = line(t, 'val_elbo', 'validation −ELBO (per example)', '#CC79A7');
  if (negElbo) negElbo.points = negElbo.points.map((p) => ({ x: p.x, y: -p.y }));
  const charts: NamedChart[] = [
    { name: 'loss', spec: { title: 'Training loss and validation −ELBO', xLabel, yLabel: 'nats per example', xInteger: true, series: some([line(t, 'train_loss', 'training loss (E_q[NLL] + KL/N)', '#009E73'), negElbo]) } },
    { name: 'accuracy', spec: { title: 'Validation accuracy', xLabel, yLabel: 'accuracy', xInteger: true, series: some([...bothStatistics(t, 'acc', 'accuracy'), line(t, 'train_acc', 'training accuracy (train-mode BN)', '#999999', true)]) } },
    { name: 'loglik', spec: { title: 'Validation log-likelihood', xLabel, yLabel: 'nats per example', xInteger: true, series: bothStatistics(t, 'll', 'log-likelihood') } },
  ];
  if (!learnt) return charts;
  charts.push({ name: 'depth', spec: { title: 'Learnt depth', xLabel, yLabel: 'depth (residual blocks)', xInteger: true, series: some([line(t, 'expected_depth', 'E_q[d]', '#0072B2'), line(t, 'prune_depth', 'd* (prune depth)', '#E69F00', true)]) } });
  const qCols = t.columns.filter((c) => /^q_\d+$/.test(c));
  const epochs = column(t, 'epoch');
  const cells = qCols.flatMap((c) => {
    const d = Number(c.slice(2));
    return column(t, c).flatMap((v, i) => (v === null || epochs[i] === null ? [] : [{ x: epochs[i]!, y: d, w: 1, h: 1, value: v }]));
  });
  charts.push({ name: 'posterior', spec: { title: 'Posterior q(d) over the epochs', xLabel, yLabel: 'depth d', xInteger: true, series: [], heat: { label: 'q(d)', cells, max: 1, colors: HEAT_COLORS } } });
  return charts;
}

function reliability(ev: EvalRecord): NamedChart | null {
  const series: Series[] = [];
  for (const [kind, color, dashed] of [['precise', PRECISE, false], ['running', RUNNING, true]] as const) {
    const bins = predictorsUnder(ev, kind)?.marginal.reliability10 ?? [];
    const points = bins.filter((b) => b.count > 0).map((b) => ({ x: b.confidence, y: b.accuracy }));
    if (points.length) series.push({ label: `${kind} BN statistics${kind === 'running' ? ' (reference)' : ''}`, kind: 'line', points, color, dashed });
  }
  if (!series.length) return null;
  return { name: 'reliability', spec: { title: 'Reliability (test split, marginal)', xLabel: 'confidence', yLabel: 'accuracy', series, diagonal: true, xDomain: { min: 0, max: 1 }, yDomain: { min: 0, max: 1 } } };
}

function pruneNumbers(dir: string): RunView['prune'] {
  const file = path.join(dir, RUN_FILES.prune);
  if (!existsSync(file)) return null;
  const p = JSON.parse(readFileSync(file, 'utf8')) as PruneRecord;
  const m = (x: { metrics: { accuracy: number; logLikelihood: number } }) => ({ accuracy: x.metrics.accuracy, logLikelihood: x.metrics.logLikelihood });
  return { depth: p.depth, nothingPruned: Boolean(p.nothingPruned), full: m(p.full), pruned: m(p.pruned), speedup: p.speedups?.vsFull ?? null }; // median and range, as vds prune prints them
}

export function runView(root: string, dir: string, sweep: string | null): RunView {
  const t = readMetrics(dir); // read once: the summary's error and the curves come from the same parse
  const summary = summarise(root, dir, sweep, t);
  const problems: string[] = [];
  const epochs = t?.rows.length ?? 0;
  const charts: NamedChart[] = t ? curves(t, summary.method !== 'fixed') : [];
  try {
    const evFile = path.join(dir, RUN_FILES.eval);
    if (existsSync(evFile)) {
      const r = reliability(JSON.parse(readFileSync(evFile, 'utf8')) as EvalRecord);
      if (r) charts.push(r);
    }
  } catch {
    problems.push(`${RUN_FILES.eval} is not valid JSON`);
  }
  let prune: RunView['prune'] = null;
  try {
    prune = pruneNumbers(dir);
  } catch {
    problems.push(`${RUN_FILES.prune} cannot be read`);
  }
  const error = [...new Set([...(summary.error ? [summary.error] : []), ...problems])].join('; ') || null;
  return { summary, epochs, charts, prune, error };
}

// Per learnt run, from its metrics.csv: the training curves (training loss and the validation ELBO against
// the epoch), and the posterior q(d) over the epochs as a heat map (depth against epoch).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { RUN_FILES } from '../../runs/layout.ts';
import { column, parseMetrics } from '../../runs/metrics-csv.ts';
import type { Run } from '../load.ts';
import { datasetName } from '../names.ts';
import type { Figure } from './types.ts';
import { HEAT_COLORS } from '../plot/chart.ts';

interface EpochRow {
  epoch: number;
  trainLoss: number;
  valElbo: number; // NaN without a validation split
  q: number[];
}

/** metrics.csv's complete rows (up to a malformed one: a run still writing it). */
function readEpochs(dir: string): EpochRow[] {
  const file = path.join(dir, RUN_FILES.metrics);
  if (!existsSync(file)) return [];
  const t = parseMetrics(readFileSync(file, 'utf8'));
  const num = (name: string) => column(t, name).map((v) => v ?? NaN);
  const [epochs, loss, elbo] = [num('epoch'), num('train_loss'), num('val_elbo')];
  const qs = t.columns.filter((c) => /^q_\d+$/.test(c)).map(num);
  return epochs.map((epoch, i) => ({ epoch, trainLoss: loss[i], valElbo: elbo[i], q: qs.map((q) => q[i]) }));
}

const slug = (id: string) => id.replace(/[^A-Za-z0-9._-]+/g, '_');

export function runCurveFigures(r: Run): Figure[] {
  if (r.config.model.method !== 'learnt') return [];
  const rows = readEpochs(r.dir);
  if (rows.length < 2) return [];
  const where = `${datasetName(r.config.data.name)}, D = ${r.config.model.maxDepth}, seed ${r.config.seed}`;
  const D = r.config.model.maxDepth;
  const hasVal = rows.some((x) => Number.isFinite(x.valElbo));
  // at most ~300 columns: every step-th epoch, drawn step epochs wide (the SVG stays small)
  const step = Math.max(1, Math.ceil(rows.length / 300));
  const shown = rows.filter((_, i) => (i + 1) % step === 0 || i === rows.length - 1);
  const qMax = Math.max(1e-9, ...rows.flatMap((x) => x.q.filter(Number.isFinite)));
  return [
    {
      name: `runs/training-${slug(r.id)}`,
      caption: `Training curves of run ${r.id} (${where}): the training objective and the negative validation ELBO per example, by epoch.`,
      spec: {
        title: `Training curves — ${where}`,
        xLabel: 'epoch',
        yLabel: 'nats per example',
        xInteger: true,
        series: [
          { label: 'training loss (E_q[NLL] + KL/N)', kind: 'line', color: '#0072B2', points: rows.map((x) => ({ x: x.epoch, y: x.trainLoss })) },
          ...(hasVal ? [{ label: '−validation ELBO', kind: 'line' as const, color: '#D55E00', dashed: true, points: rows.map((x) => ({ x: x.epoch, y: -x.valElbo })) }] : []),
        ],
        note: `best epoch (early stopping): ${r.eval.bestEpoch} of ${r.eval.epochsRun}`,
      },
    },
    {
      name: `runs/posterior-epochs-${slug(r.id)}`,
      caption: `The posterior over depth q(d) of run ${r.id} (${where}) at the end of each epoch${step > 1 ? ` (every ${step}th)` : ''}: darker is more probable (colour bar: q(d) from 0 to the largest value shown).`,
      spec: {
        title: `q(d) over training — ${where}`,
        xLabel: 'epoch',
        yLabel: 'depth d (residual blocks)',
        xInteger: true,
        yDomain: { min: -0.5, max: D + 0.5 },
        series: [],
        xDomain: { min: 0.5, max: rows[rows.length - 1].epoch + 0.5 },
        heat: {
          label: 'q(d)',
          max: qMax, // the scale ends at the largest value shown, so a flat posterior still shows its structure
          colors: HEAT_COLORS,
          cells: shown.flatMap((x) => x.q.map((p, d) => ({ x: x.epoch - step + 0.5, y: d - 0.5, w: step, h: 1, value: p }))),
        },
        note: `final E_q[d] ${r.eval.expectedDepth.toFixed(2)}, d* ${r.eval.pruneDepth}`,
      },
    },
  ];
}

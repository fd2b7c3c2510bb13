// q(d) against the prior, for the learnt network with the largest D of a dataset.
import { datasetName } from '../names.ts';
import type { PosteriorSummary } from '../aggregate.ts';
import type { Figure } from './types.ts';
import { seedsNote } from './types.ts';

export function posteriorFigure(p: PosteriorSummary): Figure {
  const n = p.q[0]?.n ?? 0;
  return {
    name: `posterior-${p.dataset}-D${p.maxDepth}`,
    caption: `Learnt posterior q(d) over depth against the prior, ${p.dataset}, max depth D = ${p.maxDepth}.`,
    spec: {
      title: `Posterior over depth vs prior — ${datasetName(p.dataset)}, D = ${p.maxDepth}`,
      xLabel: 'depth d (number of residual blocks)',
      yLabel: 'probability',
      xInteger: true,
      yMin: 0,
      series: [
        { label: `learnt q(d) (${n} seed${n === 1 ? '' : 's'})`, kind: 'bar', points: p.q.map((s, d) => ({ x: d, y: s.mean, err: s.std ?? undefined })) },
        { label: p.priorLabel, kind: 'line', points: p.prior.map((y, d) => ({ x: d, y })), color: '#D55E00' },
      ],
      note: seedsNote([n]),
    },
  };
}

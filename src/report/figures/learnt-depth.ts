// Learnt depth (E_q[d] and the pruning depth d*) against the maximum depth D, one figure per dataset.
import { datasetName } from '../names.ts';
import type { Group } from '../aggregate.ts';
import type { Figure } from './types.ts';
import { seedsNote } from './types.ts';

export function learntDepthFigure(groups: Group[], dataset: string): Figure | null {
  const ls = groups.filter((g) => g.dataset === dataset && g.method === 'learnt');
  if (ls.length === 0) return null;
  const maxD = Math.max(...ls.map((g) => g.maxDepth));
  return {
    name: `learnt-depth-${dataset}`,
    caption: `Learnt depth (E_q[d] and d*) against the maximum depth D, ${datasetName(dataset)}; dashed grey: d = D.`,
    spec: {
      title: `Learnt depth vs max depth — ${datasetName(dataset)}`,
      xLabel: 'max depth D (residual blocks)',
      yLabel: 'learnt depth (residual blocks)',
      xInteger: true,
      xDomain: { min: 0, max: Math.max(1, maxD) + 0.5 }, // room for the last marker
      yMin: 0,
      diagonal: true,
      series: [
        { label: 'E_q[d]', kind: 'line', marker: 'circle', points: ls.map((g) => ({ x: g.maxDepth, y: g.expectedDepth.mean, err: g.expectedDepth.std ?? undefined })) },
        { label: `d* (${[...new Set(ls.flatMap((g) => g.runs.map((r) => r.pruneRule)))].join(' / ')})`, kind: 'line', dashed: true, marker: 'square', points: ls.map((g) => ({ x: g.maxDepth, y: g.pruneDepth.mean, err: g.pruneDepth.std ?? undefined })) },
      ],
      note: seedsNote(ls.map((g) => g.runs.length)),
    },
  };
}

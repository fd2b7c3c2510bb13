// Pruning speed-ups from prune.json: evaluation time of the full learnt network and of the fixed-depth
// network of depth D, each divided by the pruned network's.
import { datasetName } from '../names.ts';
import type { PruningRow } from '../aggregate.ts';
import type { Figure } from './types.ts';
import { seedsNote } from './types.ts';

export function speedupFigure(all: PruningRow[]): Figure | null {
  const rows = all.filter((r) => Number.isFinite(r.speedupVsFull.mean)); // nothing pruned anywhere: no bar to draw
  if (rows.length === 0) return null;
  const labels = rows.map((r, i) => ({ x: i, label: `${datasetName(r.dataset)} D=${r.maxDepth}` }));
  const anyFixed = rows.some((r) => Number.isFinite(r.speedupVsFixed.mean));
  return {
    name: 'pruning-speedup',
    caption: 'Evaluation speed-up of the pruned network (d*) over the full learnt network and over the fixed-depth network of depth D; grey line: no speed-up.',
    spec: {
      title: 'Pruning speed-up at test time',
      xLabel: 'dataset and max depth D',
      yLabel: 'speed-up (eval time ÷ pruned eval time)',
      width: Math.max(760, 130 + rows.length * (anyFixed ? 110 : 80)),
      xTickLabels: labels,
      series: [
        { label: 'vs full learnt network', kind: 'bar', color: '#0072B2', points: rows.map((r, i) => ({ x: i, y: r.speedupVsFull.mean, err: r.speedupVsFull.std ?? undefined })) },
        ...(anyFixed ? [{ label: 'vs fixed depth D', kind: 'bar' as const, color: '#E69F00', points: rows.map((r, i) => ({ x: i, y: r.speedupVsFixed.mean, err: r.speedupVsFixed.std ?? undefined })) }] : []),
      ],
      bands: [{ label: 'no speed-up (1×)', lo: 1, hi: 1, mid: 1, color: '#777777' }],
      note: seedsNote(rows.map((r) => r.runs)),
    },
  };
}

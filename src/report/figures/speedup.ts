// Pruning speed-ups from prune.json: evaluation time of the full learnt network and of the fixed-depth
// network of depth D, each divided by the pruned network's. A bar is the median (the mean of the runs'
// medians); its error bar the lowest to highest ratio of paired passes, as `vds prune` prints it; a bar whose
// range spans 1× is drawn faint and marked, because this machine did not measure a speed-up there reliably.
import { datasetName } from '../names.ts';
import type { PruningRow, SpeedupRange } from '../aggregate.ts';
import type { Stat } from '../stats.ts';
import type { Point } from '../plot/chart.ts';
import type { Figure } from './types.ts';

export const SPANS_ONE = 'spans 1×';

function bar(x: number, s: Stat, r: SpeedupRange | null): Point {
  // runs from vds < 0.3 recorded no range: then ± 1 std over seeds, as before
  const interval = r ? { lo: r.min, hi: r.max } : { err: s.std ?? undefined };
  return { x, y: s.mean, ...interval, ...(r && r.spansOne ? { flag: SPANS_ONE } : {}) };
}

export function speedupFigure(all: PruningRow[]): Figure | null {
  const rows = all.filter((r) => Number.isFinite(r.speedupVsFull.mean)); // nothing pruned anywhere: no bar to draw
  if (rows.length === 0) return null;
  const labels = rows.map((r, i) => ({ x: i, label: `${datasetName(r.dataset)} D=${r.maxDepth}` }));
  const anyFixed = rows.some((r) => Number.isFinite(r.speedupVsFixed.mean));
  const ranged = rows.some((r) => r.speedupRange.vsFull || r.speedupRange.vsFixed);
  const flagged = rows.some((r) => r.speedupRange.vsFull?.spansOne || r.speedupRange.vsFixed?.spansOne);
  const n = rows.map((r) => r.runs - r.nothingPruned);
  const runs = Math.min(...n) === Math.max(...n) ? `${n[0]} run${n[0] === 1 ? '' : 's'}` : `${Math.min(...n)}–${Math.max(...n)} runs`;
  return {
    name: 'pruning-speedup',
    caption:
      'Evaluation speed-up of the pruned network (d*) over the full learnt network and over the fixed-depth network of depth D; error bars: lowest to highest ratio of paired passes' +
      (flagged ? `; faint bars marked "${SPANS_ONE}": the range includes 1×, no speed-up this machine measures reliably` : '') +
      '; grey line: no speed-up.',
    spec: {
      title: 'Pruning speed-up at test time',
      xLabel: 'dataset and max depth D',
      yLabel: 'speed-up (eval time ÷ pruned eval time)',
      width: Math.max(760, 130 + rows.length * (anyFixed ? 110 : 80)),
      xTickLabels: labels,
      series: [
        { label: 'vs full learnt network', kind: 'bar', color: '#0072B2', points: rows.map((r, i) => bar(i, r.speedupVsFull, r.speedupRange.vsFull)) },
        ...(anyFixed ? [{ label: 'vs fixed depth D', kind: 'bar' as const, color: '#E69F00', points: rows.map((r, i) => bar(i, r.speedupVsFixed, r.speedupRange.vsFixed)) }] : []),
      ],
      bands: [{ label: 'no speed-up (1×)', lo: 1, hi: 1, mid: 1, color: '#777777' }],
      note: ranged
        ? `median over paired passes (mean over ${runs}); error bars: lowest to highest paired ratio${flagged ? `; "${SPANS_ONE}": not a reliable speed-up` : ''}`
        : `${runs}; error bars: ± 1 std over seeds (prune.json from vds < 0.3 holds no range)`,
    },
  };
}

import type { ChartSpec } from '../plot/chart.ts';

/** A figure to write as <name>.svg / <name>.png, with a one-line caption for the summary. */
export interface Figure {
  name: string;
  caption: string;
  spec: ChartSpec;
}

export const seedsNote = (n: number[]) => {
  const lo = Math.min(...n);
  const hi = Math.max(...n);
  const seeds = lo === hi ? `${lo} seed${lo === 1 ? '' : 's'}` : `${lo}–${hi} seeds`;
  return hi <= 1 ? `one seed: no error bars` : `mean over ${seeds}; error bars and bands: ± 1 std over seeds`;
};

// `vds report`: read run directories, refuse what cannot be combined, write CSV tables, a markdown summary
// and figures (SVG, and PNG rendered from the same SVG). Never trains, never writes into a run directory.
import path from 'node:path';
import { VDS_VERSION } from '../util/version.ts';
import { writeFileAtomic } from '../util/fsx.ts';
import { datasets, deepestLearnt, groupRuns, headline, posteriors, pruning } from './aggregate.ts';
import { assertComparable, assertOneVersion } from './compat.ts';
import { depthCurveFigures } from './figures/depth-curves.ts';
import { learntDepthFigure } from './figures/learnt-depth.ts';
import { posteriorFigure } from './figures/posterior.ts';
import { reliabilityFigure, reliabilitySeries } from './figures/reliability.ts';
import { speedupFigure } from './figures/speedup.ts';
import type { Figure } from './figures/types.ts';
import { loadResults } from './load.ts';
import { robustnessRows, robustnessTable, rotationFigure } from './robustness.ts';
import { summaryMarkdown } from './markdown.ts';
import { renderChart } from './plot/chart.ts';
import { svgToPng } from './plot/png.ts';
import { headlineTable, posteriorTable, pruningTable, reliabilityTable, runsTable, skippedTable, summaryTable, toCsv, type Table } from './tables.ts';

export interface ReportOptions {
  resultsDir: string;
  out: string;
  formats: ('svg' | 'png')[];
}

export interface ReportOutput {
  files: string[]; // paths written, relative to out
  runs: number;
  skipped: number;
}

export async function buildReport(o: ReportOptions): Promise<ReportOutput> {
  const { runs, skipped } = loadResults(o.resultsDir);
  const version = assertOneVersion(runs);
  assertComparable(runs);

  const groups = groupRuns(runs);
  const head = headline(groups);
  const prune = pruning(groups);
  const posts = posteriors(groups);
  const dss = datasets(groups);
  const rel = dss.flatMap((d) => reliabilitySeries(groups, d));

  const figures: Figure[] = [];
  for (const d of dss) {
    const l = deepestLearnt(groups, d);
    const p = l && posts.find((x) => x.dataset === d && x.maxDepth === l.maxDepth);
    if (p) figures.push(posteriorFigure(p));
    figures.push(...depthCurveFigures(groups, d));
    const ld = learntDepthFigure(groups, d);
    if (ld) figures.push(ld);
    const rf = reliabilityFigure(rel.filter((s) => s.dataset === d), d);
    if (rf) figures.push(rf);
  }
  const robust = robustnessRows(groups);
  for (const d of dss) {
    const rf = rotationFigure(groups, robust, d);
    if (rf) figures.push(rf);
  }
  const sp = speedupFigure(prune);
  if (sp) figures.push(sp);

  const tables: [string, Table][] = [
    ['summary.csv', summaryTable(groups)],
    ['headline.csv', headlineTable(head)],
    ['runs.csv', runsTable(runs)],
    ['pruning.csv', pruningTable(prune)],
    ['posterior.csv', posteriorTable(posts)],
    ['reliability.csv', reliabilityTable(rel)],
    ['robustness.csv', robustnessTable(robust)],
    ['skipped.csv', skippedTable(skipped)],
  ];
  const files: string[] = [];
  const write = async (rel: string, data: string | Uint8Array) => {
    await writeFileAtomic(path.join(o.out, rel), data);
    files.push(rel);
  };
  for (const [name, t] of tables) await write(name, toCsv(t));
  for (const f of figures) {
    const svg = renderChart(f.spec);
    if (o.formats.includes('svg')) await write(`figures/${f.name}.svg`, svg);
    if (o.formats.includes('png')) await write(`figures/${f.name}.png`, svgToPng(svg));
  }
  await write(
    'summary.md',
    summaryMarkdown({
      resultsDir: o.resultsDir, vdsVersion: version, reporterVersion: VDS_VERSION, runs, skipped, groups,
      headline: head, pruning: prune, robustness: robust, figures, formats: o.formats, tables: tables.map(([n]) => n),
    }),
  );
  return { files, runs: runs.length, skipped: skipped.length };
}

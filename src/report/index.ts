// `vds report`: read run directories, count a repeated config and seed once, split what cannot be compared
// into sections, and write CSV tables, a markdown summary and figures (SVG, and PNG rendered from the same
// SVG) for each. Never trains, never writes into a run directory.
import path from 'node:path';
import { rm } from 'node:fs/promises';
import { VDS_VERSION } from '../util/version.ts';
import { writeFileAtomic } from '../util/fsx.ts';
import { datasets, deepestLearnt, groupRuns, headline, posteriors, pruning } from './aggregate.ts';
import { assertComparable, assertOneVersion, comparableSections, dropDuplicates, type Section } from './compat.ts';
import { depthCurveFigures } from './figures/depth-curves.ts';
import { learntDepthFigure } from './figures/learnt-depth.ts';
import { posteriorFigure } from './figures/posterior.ts';
import { reliabilityFigure, reliabilitySeries } from './figures/reliability.ts';
import { speedupFigure } from './figures/speedup.ts';
import { runCurveFigures } from './figures/run-curves.ts';
import type { Figure } from './figures/types.ts';
import { loadResults, type Run, type SkippedRun } from './load.ts';
import { robustnessRows, robustnessTable, rotationFigure } from './robustness.ts';
import { sectionsIndexMarkdown, summaryMarkdown } from './markdown.ts';
import { renderChart } from './plot/chart.ts';
import { svgToPng } from './plot/png.ts';
import { headlineTable, posteriorTable, pruningTable, reliabilityTable, runsTable, sectionsTable, skippedTable, summaryTable, toCsv, type Table } from './tables.ts';

export interface ReportOptions {
  resultsDir: string;
  out: string;
  formats: ('svg' | 'png')[];
}

export interface ReportOutput {
  files: string[]; // paths written, relative to out
  runs: number;
  skipped: number; // left out: failed, unfinished, corrupt, duplicates
  sections: number; // comparable groups, each with its own tables and figures when more than one per dataset
}

export async function buildReport(o: ReportOptions): Promise<ReportOutput> {
  const loaded = loadResults(o.resultsDir);
  const { runs, duplicates } = dropDuplicates(loaded.runs);
  const skipped = [...loaded.skipped, ...duplicates];
  const sections = comparableSections(runs);
  // one comparable group per dataset: one report over them all, as a single experiment gives
  if (new Set(sections.map((s) => s.dataset)).size === sections.length) {
    const files = await writeSection(o, runs, skipped, o.out, null);
    return { files, runs: runs.length, skipped: skipped.length, sections: 1 };
  }
  // several: a report per section in its own folder, and an index of them with everything left out
  await removeStaleSingleReport(o.out);
  const files: string[] = [];
  for (const sec of sections) {
    const dir = path.join(o.out, sec.slug);
    for (const f of await writeSection(o, sec.runs, [], dir, sec)) files.push(path.join(sec.slug, f));
  }
  const write = async (rel: string, data: string) => {
    await writeFileAtomic(path.join(o.out, rel), data);
    files.push(rel);
  };
  await write('sections.csv', toCsv(sectionsTable(sections)));
  await write('skipped.csv', toCsv(skippedTable(skipped)));
  await write('summary.md', sectionsIndexMarkdown({ resultsDir: o.resultsDir, reporterVersion: VDS_VERSION, sections, skipped }));
  return { files, runs: runs.length, skipped: skipped.length, sections: sections.length };
}

/** A single report written here earlier would sit beside the sections and contradict them: remove its files. */
async function removeStaleSingleReport(out: string): Promise<void> {
  for (const name of [...TABLE_FILES, 'summary.md']) await rm(path.join(out, name), { force: true });
  await rm(path.join(out, 'figures'), { recursive: true, force: true });
}

const TABLE_FILES = ['summary.csv', 'headline.csv', 'runs.csv', 'pruning.csv', 'posterior.csv', 'reliability.csv', 'robustness.csv', 'skipped.csv'];

/** Tables, figures and summary.md of one comparable set of runs, into `out`; the paths written, relative to it. */
async function writeSection(o: ReportOptions, runs: Run[], skipped: SkippedRun[], out: string, section: Section | null): Promise<string[]> {
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
  // per learnt run: its training curves and q(d) over the epochs (figures/runs/)
  for (const r of [...runs].sort((a, b) => a.id.localeCompare(b.id))) figures.push(...runCurveFigures(r));

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
    await writeFileAtomic(path.join(out, rel), data);
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
      resultsDir: o.resultsDir, section, vdsVersion: version, reporterVersion: VDS_VERSION, runs, skipped, groups,
      headline: head, pruning: prune, robustness: robust, figures, formats: o.formats, tables: tables.map(([n]) => n),
    }),
  );
  return files;
}

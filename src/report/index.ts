// `vds report`: read run directories, count a repeated config and seed once, split what cannot be compared
// into sections, and write CSV tables, a markdown summary and figures (SVG, and PNG rendered from the same
// SVG) for each. Never trains, never writes into a run directory.
import path from 'node:path';
import { rm } from 'node:fs/promises';
import { VDS_VERSION } from '../util/version.ts';
import { writeFileAtomic } from '../util/fsx.ts';
import { compareSettings, datasets, deepestLearnt, groupRuns, headline, posteriors, pruning, sameSetting, type Group, type Setting } from './aggregate.ts';
import { assertComparable, assertOneVersion, comparableSections, dropDuplicates, sweptKeysOf, type Section } from './compat.ts';
import { settingLabel } from '../sweep/axes.ts';
import { sweptFigures } from './figures/swept.ts';
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
import { headlineTable, posteriorTable, pruningTable, reliabilityTable, runsTable, sectionsTable, skippedTable, summaryTable, toCsv, type ReliabilitySeries, type Table } from './tables.ts';

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

/** Groups cut by their swept setting: each slice is what a report without swept settings would show. */
function slices(groups: Group[]): { setting: Setting; groups: Group[] }[] {
  const out: { setting: Setting; groups: Group[] }[] = [];
  for (const g of groups) {
    const s = out.find((x) => sameSetting(x.setting, g.setting));
    if (s) s.groups.push(g);
    else out.push({ setting: g.setting, groups: [g] });
  }
  return out.sort((a, b) => compareSettings(a.setting, b.setting));
}

/** A figure of one slice: its setting in the file name and the title (unchanged when nothing was swept). */
function ofSlice(f: Figure, setting: Setting): Figure {
  const entries = Object.entries(setting);
  if (!entries.length) return f;
  const said = entries.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ');
  return { name: `${f.name}-${settingLabel(setting)}`, caption: `${f.caption} (${said})`, spec: { ...f.spec, title: `${f.spec.title} (${said})` } };
}

/** Tables, figures and summary.md of one comparable set of runs, into `out`; the paths written, relative to it. */
async function writeSection(o: ReportOptions, runs: Run[], skipped: SkippedRun[], out: string, section: Section | null): Promise<string[]> {
  const version = assertOneVersion(runs);
  assertComparable(runs);
  const swept = section?.swept ?? sweptKeysOf(runs);
  const groups = groupRuns(runs, swept);
  const head = headline(groups);
  const prune = pruning(groups);
  const posts = posteriors(groups);
  const dss = datasets(groups);
  const robust = robustnessRows(groups);
  const rel: ReliabilitySeries[] = [];

  const figures: Figure[] = [];
  // with swept settings: the learnt depth, accuracy and LL against each, then the usual figures per setting
  for (const d of dss) for (const key of swept) figures.push(...sweptFigures(groups, d, key));
  for (const slice of slices(groups)) {
    const gs = slice.groups;
    const add = (f: Figure | null) => f && figures.push(ofSlice(f, slice.setting));
    for (const d of datasets(gs)) {
      const l = deepestLearnt(gs, d);
      const p = l && posts.find((x) => x.dataset === d && x.maxDepth === l.maxDepth && sameSetting(x.setting, slice.setting));
      if (p) add(posteriorFigure(p));
      depthCurveFigures(gs, d).forEach(add);
      // against D only where the slice has several D (a swept setting's slices often have one)
      const depths = new Set(gs.filter((g) => g.dataset === d && g.method === 'learnt').map((g) => g.maxDepth));
      if (!swept.length || depths.size > 1) add(learntDepthFigure(gs, d));
      const series = reliabilitySeries(gs, d).map((x) => ({ ...x, setting: slice.setting }));
      rel.push(...series);
      add(reliabilityFigure(series, d));
    }
    for (const d of datasets(gs)) add(rotationFigure(gs, robust.filter((r) => sameSetting(r.setting, slice.setting)), d));
  }
  const sp = speedupFigure(prune);
  if (sp) figures.push(sp);
  // per learnt run: its training curves and q(d) over the epochs (figures/runs/)
  for (const r of [...runs].sort((a, b) => a.id.localeCompare(b.id))) figures.push(...runCurveFigures(r));

  const tables: [string, Table][] = [
    ['summary.csv', summaryTable(groups, swept)],
    ['headline.csv', headlineTable(head, swept)],
    ['runs.csv', runsTable(runs, swept)],
    ['pruning.csv', pruningTable(prune, swept)],
    ['posterior.csv', posteriorTable(posts, swept)],
    ['reliability.csv', reliabilityTable(rel, swept)],
    ['robustness.csv', robustnessTable(robust, swept)],
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
      resultsDir: o.resultsDir, section, swept, vdsVersion: version, reporterVersion: VDS_VERSION, runs, skipped, groups,
      headline: head, pruning: prune, robustness: robust, figures, formats: o.formats, tables: tables.map(([n]) => n),
    }),
  );
  return files;
}

// summary.md: what was read, what was skipped and why, the headline comparison, the per-depth table, pruning,
// and the figures. Numbers are mean ± std over seeds.
import { bestFixed, deepestLearnt, sameSetting, type Group, type HeadlineRow, type MetricStats, type PruningRow, type Setting, type SpeedupRange, spanVerdict } from './aggregate.ts';
import type { RobustnessRow } from './robustness.ts';
import type { Figure } from './figures/types.ts';
import type { Run, SkippedRun } from './load.ts';
import type { Section } from './compat.ts';
import { fmt, type Stat } from './stats.ts';

const cell = (s: string) => s.replace(/\|/g, '\\|');

function mdTable(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

const pct = (s: Stat) => fmt({ mean: s.mean * 100, std: s.std === null ? null : s.std * 100, n: s.n }, 2);
const f1 = (s: Stat) => fmt(s, 1);
const secs = (s: Stat) => fmt(s, 1);
/** "1.29 (0.87–1.67); the range spans 1×: …", as `vds prune` prints it; the bare median for a run without a range. */
const speedupCell = (s: Stat, r: SpeedupRange | null): string => {
  if (!Number.isFinite(s.mean)) return fmt(s, 2);
  const verdict = spanVerdict(r);
  return `${fmt(s, 2)}${r ? ` (${r.min.toFixed(2)}–${r.max.toFixed(2)})` : ''}${verdict ? `; ${verdict}` : ''}`;
};

export interface SummaryInput {
  resultsDir: string;
  section: Section | null; // one of several comparable groups of the results directory, or the whole of it
  swept: string[]; // settings a sweep varied besides depth: a column each in every table
  vdsVersion: string | null;
  reporterVersion: string;
  runs: Run[];
  skipped: SkippedRun[];
  groups: Group[];
  headline: HeadlineRow[];
  pruning: PruningRow[];
  robustness: RobustnessRow[];
  figures: Figure[];
  formats: ('svg' | 'png')[];
  tables: string[];
}

export function summaryMarkdown(o: SummaryInput): string {
  const out: string[] = [];
  // a column per swept setting, after the dataset
  const sw = (s: Setting) => o.swept.map((k) => JSON.stringify(s[k] ?? null));
  out.push(o.section ? `# vds report — ${o.section.dataset}, ${o.section.experiments.join(', ')}` : `# vds report`, '');
  if (o.section) {
    out.push(
      `One of several comparable groups in \`${o.resultsDir}\` (see ../summary.md): ${o.runs.length} run(s) of dataset ${o.section.dataset}, experiment(s) ${o.section.experiments.join(', ')}` +
        (o.section.describes.length ? `; set apart from the others by ${o.section.describes.map((d) => `\`${d}\``).join(', ')}` : '') +
        `. Produced by vds ${o.vdsVersion ?? '(unknown)'}; report by vds ${o.reporterVersion}.`,
    );
  } else {
    out.push(`Results: \`${o.resultsDir}\` — ${o.runs.length} usable run(s), ${o.skipped.length} left out. Produced by vds ${o.vdsVersion ?? '(unknown)'}; report by vds ${o.reporterVersion}.`);
  }
  out.push('', 'Test-split numbers, mean ± std over seeds (sample std; none shown for a single seed). Accuracy and ECE in %, log-likelihood in nats per example; ECE is top-label with 10 equal-width bins.', '');

  if (o.skipped.length) {
    out.push('## Runs left out', '');
    out.push(mdTable(['run', 'state', 'reason'], o.skipped.map((s) => [s.id, s.state, s.reason])), '');
  }
  const notes = o.runs.flatMap((r) => r.notes.map((n) => [r.id, n]));
  if (notes.length) out.push('## Notes', '', ...notes.map(([id, n]) => `- \`${id}\`: ${n}`), '');
  const dup = o.skipped.filter((s) => s.state === 'duplicate').length;
  if (dup) out.push(`- ${dup} run(s) repeat the config and seed of another and are counted once (listed under "Runs left out").`, '');

  const sels = [...new Set(o.groups.map((g) => g.statistics))];
  out.push(
    `BatchNorm statistics at evaluation: **precise** = recomputed per depth for the final weights (SPEC §8, vds's default); **running** = the reference's running averages (its exact protocol). ` +
      `Early stopping, model selection and the best fixed depth used ${sels.map((s) => `**${s}**`).join(' and ')} statistics; the other set is evaluated on the same weights. "—": not computed (e.g. runs written before precise statistics existed).`,
    '',
  );

  if (o.headline.length) {
    out.push('## Headline: learnt vs learnt-and-pruned vs best fixed depth', '');
    out.push('The best fixed-depth network is chosen on the validation split among fixed depths ≤ D; the test split is only reported.', '');
    const pair = (h: HeadlineRow, f: (m: MetricStats) => string) => [h.by.precise ? f(h.by.precise) : '—', h.by.running ? f(h.by.running) : '—'];
    out.push(
      mdTable(
        ['dataset', ...o.swept, 'D', 'predictor', 'depth', 'chosen by', 'seeds', 'accuracy % precise', 'accuracy % running', 'log-lik precise', 'log-lik running', 'ECE % precise', 'ECE % running', 'Brier precise', 'Brier running', 'params'],
        o.headline.map((h) => [
          h.dataset, ...sw(h.setting), String(h.maxDepth), h.predictor, fmt(h.depth, 2), h.selectedBy, String(h.seeds),
          ...pair(h, (m) => pct(m.accuracy)), ...pair(h, (m) => fmt(m.logLikelihood)),
          ...pair(h, (m) => pct(m.ece10)), ...pair(h, (m) => fmt(m.brier)), fmt(h.params, 0),
        ]),
      ),
      '',
    );
  }

  if (o.groups.length) {
    out.push(`## Per dataset × method × depth${o.swept.length ? ` × ${o.swept.join(' × ')}` : ''}`, '');
    out.push(
      mdTable(
        ['dataset', ...o.swept, 'method', 'D', 'seeds', 'accuracy % precise', 'accuracy % running', 'log-lik precise', 'log-lik running', 'ECE % precise', 'ECE % running', 'Brier precise', 'Brier running', 'E_q[d]', 'd*', 'epochs', 'train s'],
        o.groups.map((g) => {
          const pair = (f: (m: MetricStats) => string) => [g.by.precise.test ? f(g.by.precise.test) : '—', g.by.running.test ? f(g.by.running.test) : '—'];
          return [
            g.dataset, ...sw(g.setting), g.method, String(g.maxDepth), String(g.runs.length), ...pair((m) => pct(m.accuracy)), ...pair((m) => fmt(m.logLikelihood)),
            ...pair((m) => pct(m.ece10)), ...pair((m) => fmt(m.brier)), fmt(g.expectedDepth, 2), fmt(g.pruneDepth, 1), f1(g.epochs), secs(g.trainSeconds),
          ];
        }),
      ),
      '',
    );
  }

  if (o.pruning.length) {
    out.push('## Pruning (from prune.json)', '');
    out.push(
      `Accuracy and log-likelihood here use the statistics that selected each run (${sels.join(' / ')}); prune.json holds both. ` +
        'Speed-ups are medians of repeated, interleaved passes over the test split, with the lowest and highest ratio of paired passes in brackets; where that range spans 1× the speed-up is not one this machine measures reliably. A run pruned at d* = D cut nothing and has none.',
      '',
    );
    out.push(
      mdTable(
        ['dataset', ...o.swept, 'D', 'pruned by', 'pruned at', 'speed-up vs full', 'speed-up vs fixed D', 'params full → pruned', 'accuracy % full → pruned', 'log-lik full → pruned'],
        o.pruning.map((p) => [
          p.dataset, ...sw(p.setting), String(p.maxDepth), p.rule,
          fmt(p.depth, 1) + (p.runDStar.mean !== p.depth.mean ? ` (d* by the runs' own rule: ${fmt(p.runDStar, 1)})` : ''),
          p.nothingPruned === p.runs ? 'nothing pruned (d* = D)' : speedupCell(p.speedupVsFull, p.speedupRange.vsFull) + (p.nothingPruned ? ` (${p.nothingPruned} run(s) with d* = D left out)` : ''),
          p.nothingPruned === p.runs ? '—' : speedupCell(p.speedupVsFixed, p.speedupRange.vsFixed),
          `${fmt(p.fullParams, 0)} → ${fmt(p.prunedParams, 0)}`, `${pct(p.fullAccuracy)} → ${pct(p.prunedAccuracy)}`,
          `${fmt(p.fullLogLikelihood)} → ${fmt(p.prunedLogLikelihood)}`,
        ]),
      ),
      '',
    );
  } else out.push('## Pruning', '', 'No prune.json in any usable run: run `vds prune <run-dir>` for speed-ups.', '');

  if (o.robustness.length) {
    out.push('## Robustness (DUN protocol, from robustness.json)', '');
    out.push('The full marginal of the deepest learnt network against the best fixed depth (chosen on validation). OOD: AUROC of predictive entropy, OOD images positive, normalised with the training set\'s constants. Rotations: test accuracy %.', '');
    const cells: string[][] = [];
    const settings = o.groups.map((g) => g.setting).filter((x, i, all) => all.findIndex((y) => sameSetting(x, y)) === i);
    for (const setting of settings) for (const d of [...new Set(o.robustness.map((r) => r.dataset))]) {
      const gs = o.groups.filter((g) => sameSetting(g.setting, setting));
      const l = deepestLearnt(gs, d);
      const f = bestFixed(gs, d, l ? l.maxDepth : Infinity);
      const find = (g: Group | null, check: string) => (g ? o.robustness.find((r) => r.dataset === d && sameSetting(r.setting, setting) && r.method === g.method && r.maxDepth === g.maxDepth && r.check === check) : undefined);
      const checks = [...new Set(o.robustness.filter((r) => r.dataset === d).map((r) => r.check))];
      for (const c of checks) {
        const show = (r: RobustnessRow | undefined, k: 'precise' | 'running') => (!r ? '—' : r.degrees === null ? fmt(r.by[k].auroc) : pct(r.by[k].accuracy));
        const lr = find(l, c);
        const fr = find(f, c);
        if (!lr && !fr) continue;
        cells.push([d, ...sw(setting), c, `${l ? `D=${l.maxDepth}` : '—'} / ${f ? `d=${f.maxDepth}` : '—'}`, show(lr, 'precise'), show(lr, 'running'), show(fr, 'precise'), show(fr, 'running'), String(lr?.runs ?? 0)]);
      }
    }
    out.push(mdTable(['dataset', ...o.swept, 'check', 'learnt / fixed', 'learnt precise', 'learnt running', 'best fixed precise', 'best fixed running', 'seeds'], cells), '');
  }

  if (o.figures.length) {
    out.push('## Figures', '');
    const ext = o.formats.includes('png') ? 'png' : 'svg';
    const perRun = o.figures.filter((f) => f.name.startsWith('runs/'));
    for (const f of o.figures.filter((x) => !perRun.includes(x))) out.push(`![${f.caption}](figures/${f.name}.${ext})`, '', `*${f.caption}*`, '');
    if (perRun.length) {
      out.push('### Each learnt run: training curves and q(d) over the epochs', '');
      for (const f of perRun) out.push(`- [${f.name.slice('runs/'.length)}](figures/${f.name}.${ext}): ${f.caption}`);
      out.push('');
    }
  }
  out.push('## Tables', '', ...o.tables.map((t) => `- [${t}](${t})`), '');
  return out.join('\n');
}

/** The index of a results directory split into sections: each with what it groups, then what was left out. */
export function sectionsIndexMarkdown(o: { resultsDir: string; reporterVersion: string; sections: Section[]; skipped: SkippedRun[] }): string {
  const out: string[] = [`# vds report`, ''];
  const runs = o.sections.reduce((n, s) => n + s.runs.length, 0);
  out.push(
    `Results: \`${o.resultsDir}\` holds runs that cannot all be compared with each other (different settings on one dataset, or different vds versions), so each comparable group has a report of its own. Report by vds ${o.reporterVersion}.`,
    '',
    mdTable(
      ['section', 'dataset', 'experiments', 'runs', 'set apart by'],
      o.sections.map((s) => [`[${s.slug}](${s.slug}/summary.md)`, s.dataset, s.experiments.join(', '), String(s.runs.length), s.describes.join(', ') || '—']),
    ),
    '',
    `${runs} run(s) in sections (a fixed-depth run can be the baseline of more than one).`,
    '',
  );
  if (o.skipped.length) out.push('## Runs left out', '', mdTable(['run', 'state', 'reason'], o.skipped.map((s) => [s.id, s.state, s.reason])), '');
  return out.join('\n');
}

// The paper's claims, one table each, from a `vds report` directory's CSVs (docs/reproduction/README.md
// quotes them): mean ± std over seeds, under precise per-depth BatchNorm statistics and under the
// reference's running statistics. Reads CSVs only; prints markdown.
//   node --import tsx scripts/claims.ts docs/reproduction/report > docs/reproduction/claims.md
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';

type Row = Record<string, string>;
const dir = process.argv[2] ?? 'docs/reproduction/report';
const read = (f: string): Row[] => parse(readFileSync(path.join(dir, f), 'utf8'), { columns: true }) as Row[];
const runs = read('runs.csv');
const summary = read('summary.csv');
const headline = read('headline.csv');
const pruning = read('pruning.csv');
const robustness = read('robustness.csv');
const KINDS = ['precise', 'running'] as const;

function stat(v: number[]): { m: number; s: number | null } {
  const x = v.filter(Number.isFinite);
  const m = x.reduce((a, b) => a + b, 0) / x.length;
  const s = x.length > 1 ? Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / (x.length - 1)) : null;
  return { m, s };
}
const f = (v: { m: number; s: number | null }, d = 2, k = 1) => (Number.isFinite(v.m) ? `${(k * v.m).toFixed(d)}${v.s === null ? '' : ` ± ${(k * v.s).toFixed(d)}`}` : '—');
const ms = (r: Row | undefined, col: string, d = 2, k = 1) => (r && r[`${col}_mean`] !== '' ? f({ m: Number(r[`${col}_mean`]), s: r[`${col}_std`] === '' ? null : Number(r[`${col}_std`]) }, d, k) : '—');
const table = (head: string[], rows: string[][]) => [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
const datasets = [...new Set(summary.map((r) => r.dataset))];
const learntDepths = (ds: string) => summary.filter((r) => r.dataset === ds && r.method === 'learnt').map((r) => Number(r.max_depth)).sort((a, b) => a - b);
const group = (ds: string, method: string, D: number) => summary.find((r) => r.dataset === ds && r.method === method && Number(r.max_depth) === D);
const out: string[] = [];

out.push('### (a) Pruning loses nothing against the full marginal', '', 'Per run: pruned − full marginal on the test split (accuracy in points, LL in nats); d* by the 0.95 threshold.', '');
const aRows: string[][] = [];
for (const ds of datasets) {
  for (const D of learntDepths(ds)) {
    const rs = runs.filter((r) => r.dataset === ds && r.method === 'learnt' && Number(r.max_depth) === D);
    const cells = KINDS.flatMap((k) => [
      f(stat(rs.map((r) => Number(r[`${k}_pruned_accuracy`]) - Number(r[`${k}_test_accuracy`]))), 2, 100),
      f(stat(rs.map((r) => Number(r[`${k}_pruned_log_likelihood`]) - Number(r[`${k}_test_log_likelihood`]))), 4),
    ]);
    aRows.push([ds, String(D), f(stat(rs.map((r) => Number(r.prune_depth))), 1), ...cells]);
  }
}
out.push(table(['dataset', 'D', 'd*', 'Δ accuracy (pts) precise', 'Δ LL precise', 'Δ accuracy (pts) running', 'Δ LL running'], aRows), '');

out.push('### (b) Marginalising over depth is better calibrated', '', 'Test split: the learnt network\'s full marginal at max depth D, the fixed-depth network of depth D, and the best fixed depth ≤ D chosen on validation (its depth in brackets). ECE % (10 bins), LL (nats), Brier.', '');
for (const k of KINDS) {
  const rows: string[][] = [];
  for (const ds of datasets) {
    for (const D of learntDepths(ds)) {
      const l = group(ds, 'learnt', D);
      const fx = group(ds, 'fixed', D);
      const best = headline.find((r) => r.dataset === ds && Number(r.max_depth) === D && r.predictor === 'best fixed depth');
      const bd = best && best.depth_mean !== '' ? `[${Number(best.depth_mean)}] ` : '';
      rows.push([ds, String(D),
        ms(l, `${k}_test_ece10`, 2, 100), ms(fx, `${k}_test_ece10`, 2, 100), bd + ms(best, `${k}_test_ece10`, 2, 100),
        ms(l, `${k}_test_log_likelihood`, 3), ms(fx, `${k}_test_log_likelihood`, 3), ms(best, `${k}_test_log_likelihood`, 3),
        ms(l, `${k}_test_brier`, 3), ms(fx, `${k}_test_brier`, 3), ms(best, `${k}_test_brier`, 3)]);
    }
  }
  out.push(`**${k === 'precise' ? 'Precise per-depth statistics (vds default)' : "The reference's running statistics"}**`, '');
  out.push(table(['dataset', 'D', 'ECE learnt', 'ECE fixed D', 'ECE best fixed', 'LL learnt', 'LL fixed D', 'LL best fixed', 'Brier learnt', 'Brier fixed D', 'Brier best fixed'], rows), '');
}

out.push('### (c) The learnt depth stops growing as D grows', '', 'E_q[d] and d* of the learnt networks (the posterior does not depend on which statistics evaluate it; the selected epoch does, and here the precise statistics selected it).', '');
out.push(table(['dataset', 'D', 'E_q[d]', 'd*'], datasets.flatMap((ds) => learntDepths(ds).map((D) => [ds, String(D), ms(group(ds, 'learnt', D), 'expected_depth'), ms(group(ds, 'learnt', D), 'prune_depth', 1)]))), '');

out.push('### (d) Learnt-and-pruned accuracy against the best manually searched depth, and the cost of each', '', 'Test accuracy %. Training time: one learnt run at D, against the whole fixed-depth search over every depth ≤ D of the grid (one seed: the sum of the mean times per depth), single-thread runs of the sweep (2 at a time on 2 cores).', '');
const dRows: string[][] = [];
for (const ds of datasets) {
  for (const D of learntDepths(ds)) {
    const pr = headline.find((r) => r.dataset === ds && Number(r.max_depth) === D && r.predictor === 'learnt + pruned');
    const best = headline.find((r) => r.dataset === ds && Number(r.max_depth) === D && r.predictor === 'best fixed depth');
    const l = group(ds, 'learnt', D);
    const search = summary.filter((r) => r.dataset === ds && r.method === 'fixed' && Number(r.max_depth) <= D).reduce((a, r) => a + Number(r.train_seconds_mean), 0);
    dRows.push([ds, String(D), ms(pr, 'precise_test_accuracy', 2, 100), ms(best, 'precise_test_accuracy', 2, 100), ms(pr, 'running_test_accuracy', 2, 100), ms(best, 'running_test_accuracy', 2, 100), best && best.depth_mean !== '' ? String(Number(best.depth_mean)) : '—', ms(l, 'train_seconds', 0), search.toFixed(0), (search / Number(l?.train_seconds_mean)).toFixed(2)]);
  }
}
out.push(table(['dataset', 'D', 'learnt+pruned precise', 'best fixed precise', 'learnt+pruned running', 'best fixed running', 'best fixed d', 'learnt run (s)', 'fixed search (s)', 'search / learnt'], dRows), '');

out.push('### (e) Speed-up of the pruned network over the fixed-depth network of depth D', '', 'Measured by `vds prune`: one pass over the test split, after a warm-up batch, same process (`speedup_vs_fixed`).', '');
out.push(table(['dataset', 'D', 'd*', 'speed-up vs fixed D', 'speed-up vs full learnt', 'params full → pruned'], pruning.map((p) => [p.dataset, p.max_depth, ms(p, 'depth', 1), ms(p, 'speedup_vs_fixed', 2), ms(p, 'speedup_vs_full', 2), `${Number(p.full_params_mean).toFixed(0)} → ${Number(p.pruned_params_mean).toFixed(0)}`])), '');

if (robustness.length) {
  out.push('### Beyond the paper: robustness (DUN protocol)', '', 'Deepest learnt network (full marginal) against the best fixed depth at that D. OOD: AUROC of predictive entropy (OOD positive). Rotations: test accuracy %.', '');
  const rRows: string[][] = [];
  for (const ds of datasets) {
    const D = Math.max(...learntDepths(ds));
    const best = headline.find((r) => r.dataset === ds && Number(r.max_depth) === D && r.predictor === 'best fixed depth');
    const bd = best ? Number(best.depth_mean) : NaN;
    for (const check of [...new Set(robustness.filter((r) => r.dataset === ds).map((r) => r.check))]) {
      const l = robustness.find((r) => r.dataset === ds && r.method === 'learnt' && Number(r.max_depth) === D && r.check === check);
      const fx = robustness.find((r) => r.dataset === ds && r.method === 'fixed' && Number(r.max_depth) === bd && r.check === check);
      const col = check.startsWith('ood') ? 'auroc' : 'accuracy';
      const [d, k] = col === 'auroc' ? [3, 1] : [1, 100];
      rRows.push([ds, check, `D=${D} / d=${bd}`, ...KINDS.flatMap((s) => [ms(l, `${s}_${col}`, d, k), ms(fx, `${s}_${col}`, d, k)])]);
    }
  }
  out.push(table(['dataset', 'check', 'learnt / best fixed', 'learnt precise', 'fixed precise', 'learnt running', 'fixed running'], rRows), '');
}
process.stdout.write(out.join('\n'));

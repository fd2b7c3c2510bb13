// The faults a long study meets, injected for real through the CLI: SIGKILL at each stage of a run's life
// (VDS_FAULT_KILL, src/util/fault.ts: the process kills itself with SIGKILL at the named point), training that
// diverges, and a disk that fills up (a small tmpfs, mounted as root; skipped without root unless CI is set).
// Each case asserts that nothing is lost: the command run again (or `--resume`) ends with exactly the numbers
// of an uninterrupted twin, or the run is failed with its reason and `vds report` shows it as failed.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readCheckpoint } from '../src/runs/checkpoint.ts';
import type { TrainState } from '../src/train/loop.ts';
import { vds, vdsAsync } from './helpers/cli.ts';
import { writeSpiralsSweep } from './helpers/spirals-sweep.ts';
import { tempDir } from './helpers/tiny-run.ts';

const json = (file: string) => JSON.parse(readFileSync(file, 'utf8'));
const status = (dir: string) => json(path.join(dir, 'status.json'));
const ckptSha = (dir: string) => readCheckpoint<TrainState>(path.join(dir, 'checkpoints', 'last.ckpt')).header.dataSha256;

/** metrics.csv without its timing columns, which differ between any two runs. */
function metricNumbers(dir: string): string[][] {
  const [head, ...rows] = readFileSync(path.join(dir, 'metrics.csv'), 'utf8').split('\n').filter(Boolean).map((l) => l.split(','));
  const timing = new Set(['epoch_seconds', 'calibration_seconds'].map((c) => head.indexOf(c)));
  return [head, ...rows].map((r) => r.filter((_, i) => !timing.has(i)));
}

/** eval.json's numbers (everything but the timings). */
function evalNumbers(dir: string): Record<string, unknown> {
  const e = json(path.join(dir, 'eval.json'));
  return Object.fromEntries(['q', 'marginal', 'pruned', 'perDepth', 'validation', 'bestEpoch', 'epochsRun', 'pruneDepth', 'byStatistics'].map((k) => [k, e[k]]));
}

/** Files a write left behind half-done (temp files are dot-files ending in .tmp). */
function tempFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.tmp'));
}

const killed = (r: { code: number | null; stderr: string }) => assert.equal(r.code, null, `expected a SIGKILL, got exit ${r.code}: ${r.stderr}`);

describe('faults: SIGKILL at every stage of a run, then the command again', () => {
  const root = tempDir('faults-kill');
  const results = path.join(root, 'results');
  const config = path.join(root, 'tiny.yaml');
  // real MNIST digits, a learnt-depth conv ResNet small enough for ~1 s of training; 240 training examples in
  // batches of 60: 4 steps an epoch; 2 calibration batches an epoch (precise per-depth statistics)
  writeFileSync(
    config,
    [
      'experiment: kills',
      'data: { name: mnist-fixture, limit: 300, testLimit: 200, validationFraction: 0.2 }',
      'model: { maxDepth: 2, outerWidth: 4, innerWidth: 2 }',
      'train: { batchSize: 60, epochs: 3, patience: 30, evalBatchSize: 100 }',
      'eval: { calibrationBatches: 2 }',
      '',
    ].join('\n'),
  );
  const common = ['--results-dir', results, '--backend', 'wasm', '--threads', '1', '--progress', 'none'];
  const dirOf = (id: string) => path.join(results, 'kills', id);
  const twin = dirOf('twin');
  const train = (id: string, env: Record<string, string> = {}) => vds(['train', '-c', config, '--run-id', id, ...common], env);
  const resume = (id: string) => vds(['train', '--resume', dirOf(id), '--backend', 'wasm', '--progress', 'none'], {});

  before(() => {
    for (const [args, what] of [
      [['train', '-c', config, '--run-id', 'twin', ...common], 'train'],
      [['prune', twin, '--backend', 'wasm'], 'prune'],
      [['eval', twin, '--rotations', '--backend', 'wasm'], 'eval'],
    ] as const) {
      const r = vds([...args]);
      assert.equal(r.code, 0, `the uninterrupted twin's ${what}: ${r.stderr}`);
    }
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const sameAsTwin = (id: string) => {
    const dir = dirOf(id);
    assert.equal(status(dir).state, 'finished');
    assert.deepEqual(evalNumbers(dir), evalNumbers(twin));
    assert.deepEqual(metricNumbers(dir), metricNumbers(twin));
    assert.equal(ckptSha(dir), ckptSha(twin), 'final weights, statistics and optimiser state bit-identical');
    assert.deepEqual(tempFiles(dir), []);
  };

  it('in the first epoch (no checkpoint yet): vds report calls it interrupted, not running; --resume starts it again and ends as the twin', () => {
    killed(train('first-epoch', { VDS_FAULT_KILL: 'step:2' }));
    const dir = dirOf('first-epoch');
    assert.equal(status(dir).state, 'running', 'status.json as the killed process left it');
    assert.equal(existsSync(path.join(dir, 'checkpoints', 'last.ckpt')), false);
    // the report reads it for what it is: no process holds it
    const rep = vds(['report', results, '--out', path.join(root, 'report-after-kill')]);
    assert.equal(rep.code, 0, rep.stderr);
    const skipped = readFileSync(path.join(root, 'report-after-kill', 'skipped.csv'), 'utf8');
    assert.match(skipped, /first-epoch,interrupted,.*no live process holds it/);
    // a fresh start under the same id is refused (the run exists); --resume is the way, and it works
    const again = train('first-epoch');
    assert.equal(again.code, 2);
    assert.match(again.stderr, /vds train --resume/);
    const r = resume('first-epoch');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /no checkpoint yet \(the run stopped in its first epoch\): it starts again from epoch 1/);
    sameAsTwin('first-epoch');
  });

  it('in the calibration of epoch 2 (after the first checkpoint): --resume ends as the twin', () => {
    killed(train('calibration', { VDS_FAULT_KILL: 'calibration:3' })); // epoch 1 has batches 1-2
    const dir = dirOf('calibration');
    assert.equal(readCheckpoint<TrainState>(path.join(dir, 'checkpoints', 'last.ckpt'))!.header.state.epoch, 1, 'killed inside epoch 2');
    const r = resume('calibration');
    assert.equal(r.code, 0, r.stderr);
    sameAsTwin('calibration');
  });

  for (const pass of [1, 2]) {
    it(`in the final test pass (${pass === 1 ? 'precise statistics' : 'after the precise, in the running statistics'}): --resume evaluates again and ends as the twin`, () => {
      const id = `test-pass-${pass}`;
      killed(train(id, { VDS_FAULT_KILL: `test-pass:${pass}` }));
      const dir = dirOf(id);
      assert.equal(existsSync(path.join(dir, 'eval.json')), false);
      assert.equal(readCheckpoint<TrainState>(path.join(dir, 'checkpoints', 'last.ckpt'))!.header.state.epoch, 3, 'all epochs trained');
      const r = resume(id);
      assert.equal(r.code, 0, r.stderr);
      sameAsTwin(id);
    });
  }

  it('in vds prune (pruned.ckpt written, prune.json not): prune again gives the twin’s numbers', () => {
    const r0 = vds(['train', '-c', config, '--run-id', 'prune', ...common]);
    assert.equal(r0.code, 0, r0.stderr);
    killed(vds(['prune', dirOf('prune'), '--backend', 'wasm'], { VDS_FAULT_KILL: 'prune' }));
    assert.ok(existsSync(path.join(dirOf('prune'), 'checkpoints', 'pruned.ckpt')));
    assert.equal(existsSync(path.join(dirOf('prune'), 'prune.json')), false);
    const r = vds(['prune', dirOf('prune'), '--backend', 'wasm']);
    assert.equal(r.code, 0, r.stderr);
    const [a, b] = [json(path.join(dirOf('prune'), 'prune.json')), json(path.join(twin, 'prune.json'))];
    for (const k of ['depth', 'q', 'rule', 'byStatistics', 'nothingPruned', 'evaluatedExamples']) assert.deepEqual(a[k], b[k], `prune.json ${k}`);
    for (const k of ['full', 'pruned']) assert.deepEqual(a[k].metrics, b[k].metrics, `prune.json ${k}.metrics`); // beside their timings
    assert.deepEqual(tempFiles(dirOf('prune')), []);
  });

  it('in vds eval (between OOD and rotations): nothing half-written; eval again gives the twin’s numbers', () => {
    const dir = dirOf('prune'); // trained above: the same numbers as the twin
    killed(vds(['eval', dir, '--rotations', '--backend', 'wasm'], { VDS_FAULT_KILL: 'eval' }));
    assert.equal(existsSync(path.join(dir, 'robustness.json')), false);
    const r = vds(['eval', dir, '--rotations', '--backend', 'wasm']);
    assert.equal(r.code, 0, r.stderr);
    const [a, b] = [json(path.join(dir, 'robustness.json')), json(path.join(twin, 'robustness.json'))];
    for (const k of ['statistics', 'ood', 'rotations', 'byStatistics']) assert.deepEqual(a[k], b[k], `robustness.json ${k}`);
    assert.equal(a.rotations.length, 13);
  });
});

describe('faults: training that diverges', () => {
  const root = tempDir('faults-diverge');
  const results = path.join(root, 'results');
  const config = path.join(root, 'spirals.yaml');
  // the toy spirals, full fc network of width 8, 4 steps an epoch; an absurd learning rate blows it up
  writeFileSync(config, ['experiment: diverge', 'data: { name: spirals }', 'model: { kind: fc, width: 8, maxDepth: 2 }', 'train: { batchSize: 50, epochs: 10, patience: 100 }', ''].join('\n'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('stops at that step as failed, naming the epoch, the step and the quantity; vds report lists it as failed, never as NaN', () => {
    const cases = [
      { lr: 100, what: /training diverged at epoch 3, step 4 of 4: the expected NLL is NaN/ },
      { lr: 30, what: /training diverged at epoch 3, step 4 of 4: BatchNorm buffer blocks\.0\.bn\.runningVar is no longer finite/ },
    ];
    for (const { lr, what } of cases) {
      const r = vds(['train', '-c', config, '--set', `train.lr=${lr}`, '--run-id', `lr${lr}`, '--results-dir', results, '--backend', 'wasm', '--threads', '1', '--progress', 'none']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, what);
      const dir = path.join(results, 'diverge', `lr${lr}`);
      assert.equal(r.stdout.trim().split('\n').pop(), dir, 'a failed run leaves its directory: the last line of stdout');
      const st = status(dir);
      assert.equal(st.state, 'failed');
      assert.equal(st.epoch, 2);
      assert.match(st.message, what);
      assert.match(st.message, /checkpoints\/last\.ckpt \(epoch 2\) is kept/);
      assert.equal(metricNumbers(dir).length, 1 + 2, 'the two finished epochs, no row for the diverged one');
      assert.equal(readCheckpoint<TrainState>(path.join(dir, 'checkpoints', 'last.ckpt'))!.header.state.epoch, 2);
    }
    const ok = vds(['train', '-c', config, '--run-id', 'sane', '--results-dir', results, '--backend', 'wasm', '--threads', '1', '--progress', 'none']);
    assert.equal(ok.code, 0, ok.stderr);
    const out = path.join(root, 'report');
    const rep = vds(['report', results, '--out', out]);
    assert.equal(rep.code, 0, rep.stderr);
    const skipped = readFileSync(path.join(out, 'skipped.csv'), 'utf8');
    assert.match(skipped, /lr100,failed,"?failed after 2 epochs: TrainingDiverged: training diverged at epoch 3/);
    assert.match(skipped, /lr30,failed,"?failed after 2 epochs: TrainingDiverged/);
    for (const f of ['summary.csv', 'runs.csv', 'headline.csv', 'summary.md']) {
      // the reason quoted for a failed run may say NaN; no table cell may
      const text = readFileSync(path.join(out, f), 'utf8').split('\n').filter((l) => !l.includes('| failed |')).join('\n');
      assert.doesNotMatch(text, /NaN|Infinity/, `${f} has no non-finite numbers`);
      if (f !== 'summary.md') assert.doesNotMatch(text, /lr100|lr30/, `${f} leaves the failed runs out`);
    }
    assert.match(readFileSync(path.join(out, 'runs.csv'), 'utf8'), /sane/);
  });
});

// --- the disk fills up -------------------------------------------------------------------------------------

const requireRoot = Boolean(process.env.CI);

/** Mounts a tmpfs of `size` at a new directory, or returns why it cannot (not root, no mount). */
function mountTmpfs(size: string): { dir: string } | { skip: string } {
  const dir = tempDir('faults-disk');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return { dir };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    return { skip: `cannot mount a tmpfs (needs root): ${(e as Error).message.split('\n')[0]}` };
  }
}

/** Takes every free byte of the filesystem holding `dir` (the file is removed to give the space back). */
function fillDisk(file: string): void {
  for (const chunk of [1 << 16, 1 << 12, 1 << 8, 1]) {
    const buf = Buffer.alloc(chunk, 1);
    try {
      for (;;) appendFileSync(file, buf);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
    }
  }
}

describe('faults: the disk fills up', () => {
  const mount = mountTmpfs('4m');
  const skip = 'skip' in mount ? mount.skip : false;
  if (skip && requireRoot) it('needs a tmpfs (root) where CI is set', () => assert.fail(skip));
  const disk = 'dir' in mount ? mount.dir : '';
  const twinRoot = tempDir('faults-disk-twin');
  const config = path.join(twinRoot, 'spirals.yaml');
  writeFileSync(config, ['experiment: disk', 'data: { name: spirals }', 'model: { kind: fc, width: 8, maxDepth: 2 }', 'train: { batchSize: 50, epochs: 300, patience: 1000 }', ''].join('\n'));
  const args = (results: string, id: string) => ['train', '-c', config, '--run-id', id, '--results-dir', results, '--backend', 'wasm', '--threads', '1', '--progress', 'none'];
  after(() => {
    if (disk) execFileSync('umount', [disk]);
    rmSync(disk || twinRoot, { recursive: true, force: true });
    rmSync(twinRoot, { recursive: true, force: true });
  });

  it('mid-training: the run fails with "no space" naming the file, keeps a readable checkpoint, leaves no temp file, and resumes to the twin’s numbers', { skip: skip && !requireRoot ? skip : false }, async () => {
    const twinRun = vds(args(twinRoot, 'twin'));
    assert.equal(twinRun.code, 0, twinRun.stderr);
    const results = path.join(disk, 'results');
    const dir = path.join(results, 'disk', 'full');
    const filler = path.join(disk, 'filler');
    const child = vdsAsync(args(results, 'full'));
    // once it is some epochs in, take all the space that is left
    for (let t = 0; ; t++) {
      const epoch = existsSync(path.join(dir, 'status.json')) ? (JSON.parse(readFileSync(path.join(dir, 'status.json'), 'utf8') || '{}').epoch ?? 0) : 0;
      if (epoch >= 5) break;
      assert.ok(t < 1200, 'the run did not reach epoch 5 within a minute');
      await new Promise((r) => setTimeout(r, 50));
    }
    fillDisk(filler);
    const r = await child.done;
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /no space left on the device to write \S+(metrics\.csv|last\.ckpt|best\.ckpt|status\.json) \(ENOSPC\)/);
    assert.ok(r.stderr.includes(dir), 'the message names the path');
    const st = status(dir);
    assert.equal(st.state, 'failed', 'marked failed even with no room for a temp file');
    assert.match(st.message, /NoSpace: no space left on the device/);
    const stoppedAt = readCheckpoint<TrainState>(path.join(dir, 'checkpoints', 'last.ckpt'))!.header.state.epoch;
    assert.ok(stoppedAt >= 5 && stoppedAt < 300, `the last good checkpoint (epoch ${stoppedAt}) reads back`);
    assert.deepEqual(tempFiles(dir), [], 'no half-written temp file left');

    // while the disk is still full a report cannot be written either: it says so, and leaves nothing half-written
    const out = path.join(disk, 'report');
    mkdirSync(out, { recursive: true });
    const rep = vds(['report', results, '--out', out]);
    assert.notEqual(rep.code, 0);
    assert.match(rep.stderr, /no space left on the device to write/);
    assert.deepEqual(tempFiles(out), []);

    rmSync(filler);
    const again = vds(['train', '--resume', dir, '--backend', 'wasm', '--progress', 'none']);
    assert.equal(again.code, 0, again.stderr);
    const twin = path.join(twinRoot, 'disk', 'twin');
    assert.equal(status(dir).state, 'finished');
    assert.deepEqual(evalNumbers(dir), evalNumbers(twin));
    assert.deepEqual(metricNumbers(dir), metricNumbers(twin));
    assert.equal(ckptSha(dir), ckptSha(twin));
  });
});

describe('faults: a sweep directory with a run from an older vds, a half-written run and a corrupt eval.json', () => {
  const root = tempDir('faults-mixed');
  after(() => rmSync(root, { recursive: true, force: true }));

  it('vds sweep status and vds report say what each is and still produce the rest', () => {
    const file = writeSpiralsSweep(root, 'mixed', 'mixed', { epochs: 30, methods: ['learnt', 'fixed'], depths: [1, 2] });
    const results = path.join(root, 'results');
    const r = vds(['sweep', '--config', file, '--results-dir', results, '--jobs', '2']);
    assert.equal(r.code, 0, r.stderr);
    const runs: { id: string; dir: string }[] = JSON.parse(readFileSync(path.join(results, 'mixed', 'sweep.json'), 'utf8')).runs;
    const [corrupt, half, old] = runs;
    writeFileSync(path.join(corrupt.dir, 'eval.json'), '{"marginal": {"accuracy": 0.9'); // cut off mid-write
    // half-written: killed as it started, before its first epoch (config and env written, status running)
    for (const f of ['eval.json', 'metrics.csv']) rmSync(path.join(half.dir, f), { force: true });
    rmSync(path.join(half.dir, 'checkpoints'), { recursive: true, force: true });
    writeFileSync(path.join(half.dir, 'status.json'), JSON.stringify({ state: 'running', epoch: 0, updatedAt: new Date().toISOString() }));
    for (const f of ['env.json', 'eval.json']) {
      const j = JSON.parse(readFileSync(path.join(old.dir, f), 'utf8'));
      writeFileSync(path.join(old.dir, f), JSON.stringify({ ...j, vdsVersion: '0.1.0' })); // as an older vds wrote both
    }

    const st = vds(['sweep', 'status', path.join(results, 'mixed'), '--json']);
    assert.equal(st.code, 0, st.stderr);
    const rows = new Map((JSON.parse(st.stdout).runs as { id: string; state: string; message: string | null }[]).map((x) => [x.id, x]));
    assert.match(rows.get(corrupt.id)!.message ?? '', /eval\.json is not valid JSON: vds report leaves this run out/);
    assert.equal(rows.get(half.id)!.state, 'interrupted');
    assert.match(rows.get(half.id)!.message ?? '', /stopped without a checkpoint of its last step/);
    assert.equal(rows.get(old.id)!.state, 'finished');
    assert.equal(rows.get(runs[3].id)!.state, 'finished');

    const out = path.join(root, 'report');
    const rep = vds(['report', path.join(results, 'mixed'), '--out', out, '--format', 'svg']);
    assert.equal(rep.code, 0, rep.stderr);
    const skipped = readFileSync(path.join(out, 'skipped.csv'), 'utf8');
    assert.match(skipped, new RegExp(`${corrupt.id},corrupt,.*eval\\.json is not valid JSON`));
    assert.match(skipped, new RegExp(`${half.id},interrupted,.*no live process holds it`));
    // the older run is a section of its own version; the newest one has the fourth run
    const index = readFileSync(path.join(out, 'summary.md'), 'utf8');
    assert.match(index, /0\.1\.0/);
    const csvs = readdirSync(out, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('runs.csv'));
    const listed = csvs.map((f) => readFileSync(path.join(out, f), 'utf8')).join('\n');
    for (const r2 of [old, runs[3]]) assert.ok(listed.includes(r2.id), `${r2.id} reported`);
  });
});

// What a training run writes and prints says what was computed: metrics.csv is appended one row per epoch
// (a resume drops a half-written row and rows past its checkpoint), checkpoints stay the same size (no
// history in them), trainSeconds is wall clock with its parts, a finished run is not re-run by --resume,
// a resume that raises train.epochs records the change, and a fixed-depth run is not labelled as learnt.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { selectBackend } from '../src/tf/backend.ts';
import { loadDataset } from '../src/data/index.ts';
import { executeRun, checkpointPath } from '../src/runs/execute.ts';
import { readCheckpoint } from '../src/runs/checkpoint.ts';
import { tempDir, tinyConfig } from './helpers/tiny-run.ts';
import { vds } from './helpers/cli.ts';

const metricsLines = (dir: string): string[] => readFileSync(path.join(dir, 'metrics.csv'), 'utf8').split('\n');
/** metrics.csv without its timing columns, which differ between any two runs. */
function numbers(dir: string): string[][] {
  const [head, ...rows] = metricsLines(dir).filter(Boolean).map((l) => l.split(','));
  const timing = new Set(['epoch_seconds', 'calibration_seconds'].map((c) => head.indexOf(c)));
  return [head, ...rows].map((r) => r.filter((_, i) => !timing.has(i)));
}

describe('training outputs', () => {
  before(async () => {
    await selectBackend('wasm');
  });

  it('metrics.csv grows by one appended row per epoch; the checkpoint carries no history and keeps its size', async () => {
    const root = tempDir('outputs');
    const config = tinyConfig(root, ['train.epochs=4']);
    const ds = await loadDataset(config.data, config.seed, { dataDir: root });
    const dir = path.join(root, 'run');
    const seen: { csv: string; ckptBytes: number }[] = [];
    await executeRun(config, ds, dir, false, { replicas: 1 }, {
      interrupted: () => false,
      onEpoch: () => seen.push({ csv: readFileSync(path.join(dir, 'metrics.csv'), 'utf8'), ckptBytes: statSync(checkpointPath(dir, 'last')).size }),
    });
    assert.equal(seen.length, 4);
    for (let e = 1; e < seen.length; e++) {
      assert.ok(seen[e].csv.startsWith(seen[e - 1].csv), `epoch ${e + 1} only appends`);
      assert.equal(seen[e].csv.split('\n').length, seen[e - 1].csv.split('\n').length + 1);
      // the same tensors and a state of fixed shape: only the digits of its numbers vary
      assert.ok(Math.abs(seen[e].ckptBytes - seen[0].ckptBytes) < 256, `the checkpoint does not grow with the epochs (${seen.map((x) => x.ckptBytes)})`);
    }
    const state = readCheckpoint<Record<string, unknown>>(checkpointPath(dir, 'last')).header.state;
    assert.ok(!('history' in state), 'no per-epoch history in the checkpoint');
    const ev = JSON.parse(readFileSync(path.join(dir, 'eval.json'), 'utf8'));
    const parts = ev.trainTiming as Record<string, number>;
    assert.deepEqual(Object.keys(parts).sort(), ['calibration', 'io', 'steps', 'validation']);
    const sum = Object.values(parts).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - ev.trainSeconds) < 1e-6, `the parts (${sum}) add up to trainSeconds (${ev.trainSeconds})`);
    assert.ok(parts.io > 0 && parts.steps > 0 && parts.validation > 0);
  });

  it('a resume drops a half-written last row (and rows past the checkpoint) and ends with the uninterrupted rows', async () => {
    const root = tempDir('outputs-resume');
    const config = tinyConfig(root, ['train.epochs=4']);
    const ds = await loadDataset(config.data, config.seed, { dataDir: root });
    const straight = path.join(root, 'straight');
    await executeRun(config, ds, straight, false, { replicas: 1 }, { interrupted: () => false });
    // stopped in epoch 3 (8 steps an epoch), then the process "died" while appending a row
    const dir = path.join(root, 'resumed');
    let steps = 0;
    const first = await executeRun(config, ds, dir, false, { replicas: 1 }, { onStep: () => steps++, interrupted: () => steps >= 18 });
    assert.equal(first.state, 'interrupted');
    assert.equal(metricsLines(dir).filter(Boolean).length, 1 + 2);
    appendFileSync(path.join(dir, 'metrics.csv'), '3,0.1,2.2'); // half a row, no newline
    await executeRun(config, ds, dir, true, { replicas: 1 }, { interrupted: () => false });
    assert.deepEqual(numbers(dir), numbers(straight));
    assert.ok(readFileSync(path.join(dir, 'metrics.csv'), 'utf8').endsWith('\n'));
    // and an extra row written after the last checkpoint (a crash between the two writes) is dropped too
    const again = path.join(root, 'again');
    steps = 0;
    await executeRun(config, ds, again, false, { replicas: 1 }, { onStep: () => steps++, interrupted: () => steps >= 18 });
    const rows = metricsLines(again).filter(Boolean);
    writeFileSync(path.join(again, 'metrics.csv'), [...rows, rows[rows.length - 1].replace(/^2,/, '3,')].join('\n') + '\n');
    await executeRun(config, ds, again, true, { replicas: 1 }, { interrupted: () => false });
    assert.deepEqual(numbers(again), numbers(straight));
  });
});

describe('vds train --resume on a finished run, and labels of a fixed-depth run', () => {
  const root = tempDir('outputs-cli');
  const file = path.join(root, 'fixed.yaml');
  writeFileSync(
    file,
    'experiment: out\ndata: { name: spirals }\nmodel: { kind: fc, width: 8, maxDepth: 2, method: fixed }\ntrain: { batchSize: 0, epochs: 6, patience: 100 }\n',
  );
  let runDir = '';

  it('a fixed-depth run prints no posterior over depth: no E[d], no d*, no "marginal over depths"', () => {
    const r = vds(['train', '-c', file, '--results-dir', root, '--run-id', 'f', '--progress', 'plain', '--backend', 'wasm']);
    assert.equal(r.code, 0, r.stderr);
    runDir = r.stdout.trim().split('\n').pop()!;
    const epochs = r.stderr.split('\n').filter((l) => l.startsWith('epoch '));
    assert.equal(epochs.length, 6);
    for (const l of epochs) assert.doesNotMatch(l, /E\[d\]|d\*/);
    assert.doesNotMatch(r.stderr, /marginal over depths|pruned at d\*/);
    assert.match(r.stderr, /fixed depth 2 +accuracy [\d.]+ +LL -?[\d.]+ +ECE \(10 bins\) [\d.]+/);
    assert.match(r.stderr, /with the reference's running statistics \(the running BatchNorm averages the PyTorch code evaluates with\)/);
  });

  it('--resume on a finished run says so and touches nothing; raising train.epochs trains on and records the change', () => {
    const files = ['eval.json', 'env.json', 'status.json', 'metrics.csv', 'config.yaml', 'checkpoints/last.ckpt'];
    const hash = () => files.map((f) => createHash('sha256').update(readFileSync(path.join(runDir, f))).digest('hex'));
    const before = hash();
    const again = vds(['train', '--resume', runDir]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /already finished \(6 epochs, all epochs run\); nothing to do/);
    assert.deepEqual(hash(), before, 'no file rewritten');
    const longer = vds(['train', '--resume', runDir, '--set', 'train.epochs=8', '--progress', 'plain']);
    assert.equal(longer.code, 0, longer.stderr);
    assert.match(longer.stderr, /config changed on resume: train\.epochs 6 → 8/);
    assert.equal(metricsLines(runDir).filter(Boolean).length, 1 + 8);
    assert.equal(JSON.parse(readFileSync(path.join(runDir, 'eval.json'), 'utf8')).epochsRun, 8);
    assert.match(readFileSync(path.join(runDir, 'config.yaml'), 'utf8'), /epochs: 8/);
    const env = JSON.parse(readFileSync(path.join(runDir, 'env.json'), 'utf8'));
    assert.deepEqual(env.configChanges.map((c: { changed: unknown }) => c.changed), [{ 'train.epochs': [6, 8] }]);
  });
});

describe('vds prune when d* = D', () => {
  it('says "nothing pruned", times the full network repeatedly and reports no speed-up', () => {
    const root = tempDir('outputs-prune');
    const file = path.join(root, 'd0.yaml');
    // a learnt network with one depth: q is 1 on d = 0 = D, so d* = D whatever training does
    writeFileSync(file, 'experiment: out\ndata: { name: spirals }\nmodel: { kind: fc, width: 8, maxDepth: 0 }\ntrain: { batchSize: 0, epochs: 3, patience: 100 }\n');
    const t = vds(['train', '-c', file, '--results-dir', root, '--run-id', 'd0', '--progress', 'none', '--backend', 'wasm']);
    assert.equal(t.code, 0, t.stderr);
    const runDir = t.stdout.trim().split('\n').pop()!;
    // --progress none silences the progress, not the results; the test lines name the epoch they tested (issue 29)
    const ev = JSON.parse(readFileSync(path.join(runDir, 'eval.json'), 'utf8'));
    assert.doesNotMatch(t.stderr, /^epoch \d/m);
    assert.match(t.stderr, new RegExp(`^test split, epoch ${ev.bestEpoch} of 3 \\(best validation ELBO\\), precise per-depth BatchNorm statistics`, 'm'));
    assert.match(t.stderr, /^ {2}marginal over depths 0\.\.0 +accuracy [\d.]+/m);
    const p = vds(['prune', runDir, '--backend', 'wasm']);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /nothing pruned: d = D = 0/);
    assert.match(p.stdout, /no speed-up to measure \(nothing pruned\)/);
    assert.doesNotMatch(p.stdout, /speed-up vs full/);
    const rec = JSON.parse(readFileSync(path.join(runDir, 'prune.json'), 'utf8'));
    assert.equal(rec.nothingPruned, true);
    assert.equal(rec.speedupVsFull, null);
    assert.deepEqual(rec.speedups, { vsFull: null, vsFixed: null });
    assert.ok(rec.full.timing.repeats >= 5, `repeats ${rec.full.timing.repeats}`);
    assert.ok(rec.full.timing.min <= rec.full.timing.median && rec.full.timing.median <= rec.full.timing.max);
  });
});

// An interrupted run, resumed from its checkpoint, ends with exactly the numbers of an uninterrupted one
// (same seed, same backend): weights, optimiser state, RNG state and early-stopping state all come back.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { selectBackend } from '../src/tf/backend.ts';
import { loadDataset } from '../src/data/index.ts';
import { executeRun, checkpointPath } from '../src/runs/execute.ts';
import { readCheckpoint } from '../src/runs/checkpoint.ts';
import { readStatus } from '../src/runs/run-dir.ts';
import { tempDir, tinyConfig } from './helpers/tiny-run.ts';

describe('resume', () => {
  before(async () => {
    await selectBackend('wasm');
  });

  // 2 replicas: data-parallel training (worker threads) is exactly reproducible too
  for (const replicas of [1, 2]) it(`interrupted mid-epoch and resumed = uninterrupted, to the last bit (${replicas} replica(s))`, async () => {
    const root = tempDir('resume');
    const config = tinyConfig(root);
    const ds = await loadDataset(config.data, config.seed, { dataDir: root });
    const straightDir = path.join(root, 'straight');
    const straight = await executeRun(config, ds, straightDir, false, { replicas: replicas }, { interrupted: () => false });
    assert.equal(straight.state, 'finished');

    // stop after 9 steps: inside epoch 2 (600·0.8 = 480 examples → 8 batches of 64 per epoch)
    const resumedDir = path.join(root, 'resumed');
    let steps = 0;
    const first = await executeRun(config, ds, resumedDir, false, { replicas: replicas }, { onStep: () => steps++, interrupted: () => steps >= 9 });
    assert.deepEqual(first, { state: 'interrupted', epoch: 1, step: 1, message: 'stopped in epoch 2 after its step 1 (1 epoch(s) complete); the checkpoint resumes at step 2 of epoch 2' });
    assert.equal(readStatus(resumedDir)?.state, 'interrupted');
    const second = await executeRun(config, ds, resumedDir, true, { replicas: replicas }, { interrupted: () => false });
    assert.equal(second.state, 'finished');

    const a = JSON.parse(readFileSync(path.join(straightDir, 'eval.json'), 'utf8'));
    const b = JSON.parse(readFileSync(path.join(resumedDir, 'eval.json'), 'utf8'));
    assert.ok(a.byStatistics.precise && a.byStatistics.running, 'both sets of statistics evaluated');
    for (const k of ['q', 'marginal', 'pruned', 'perDepth', 'validation', 'bestEpoch', 'epochsRun', 'pruneDepth', 'byStatistics']) {
      assert.deepEqual(b[k], a[k], `eval.json ${k}`);
    }
    const ca = readCheckpoint(checkpointPath(straightDir, 'last'));
    const cb = readCheckpoint(checkpointPath(resumedDir, 'last'));
    assert.equal(cb.header.dataSha256, ca.header.dataSha256, 'final weights, running and precise statistics and momentum identical');
    assert.equal(readFileSync(path.join(resumedDir, 'metrics.csv'), 'utf8').split('\n').length, readFileSync(path.join(straightDir, 'metrics.csv'), 'utf8').split('\n').length);
  });
});

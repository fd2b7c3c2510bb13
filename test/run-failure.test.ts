// A failed run never looks alive: an exception in the middle of training ends with status.json "failed"
// and the reason, the error still reaching the caller, and the last checkpoint left for a resume.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { selectBackend } from '../src/tf/backend.ts';
import { loadDataset } from '../src/data/index.ts';
import { checkpointPath, executeRun, failureReason } from '../src/runs/execute.ts';
import { readStatus } from '../src/runs/run-dir.ts';
import { tempDir, tinyConfig } from './helpers/tiny-run.ts';

describe('a failing run', () => {
  before(async () => {
    await selectBackend('wasm');
  });

  it('is marked failed with its reason, and its checkpoint stays', async () => {
    const root = tempDir('fail');
    const config = tinyConfig(root);
    const ds = await loadDataset(config.data, config.seed, { dataDir: root });
    const dir = path.join(root, 'run');
    let steps = 0;
    const boom = () => {
      if (++steps === 10) throw new RangeError('out of memory in step 10\nwasm stack …');
    };
    await assert.rejects(executeRun(config, ds, dir, false, { replicas: 1 }, { onStep: boom, interrupted: () => false }), /out of memory in step 10/);
    const status = readStatus(dir)!;
    assert.equal(status.state, 'failed');
    assert.equal(status.epoch, 1, 'one epoch (8 steps) completed before the failure');
    assert.equal(status.message, 'RangeError: out of memory in step 10', 'first line only');
    assert.ok(existsSync(checkpointPath(dir, 'last')), 'the last epoch\'s checkpoint is kept');
    // and the run resumes from it
    const again = await executeRun(config, ds, dir, true, { replicas: 1 }, { interrupted: () => false });
    assert.equal(again.state, 'finished');
    assert.equal(readStatus(dir)!.state, 'finished');
  });

  it('failureReason keeps the first line of any thrown value', () => {
    assert.equal(failureReason(new Error('a\nb')), 'a');
    assert.equal(failureReason('plain'), 'plain');
    assert.equal(failureReason(new TypeError('x')), 'TypeError: x');
  });
});

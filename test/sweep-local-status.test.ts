// The local launcher behind the launcher interface: a run whose status.json says failed is counted as
// failed and left alone by a re-run unless --retry-failed; `vds sweep status` shows every state, and
// `vds sweep cancel` stops a running local sweep with checkpoints. Real training runs (tiny spirals).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { vds, vdsAsync } from './helpers/cli.ts';
import { tempDir } from './helpers/tiny-run.ts';
import { writeSpiralsSweep } from './helpers/spirals-sweep.ts';
import { waitFor } from './helpers/wait.ts';

const sweepFile = (dir: string, name: string, epochs: number, methods = ['learnt', 'fixed']): string => writeSpiralsSweep(dir, name, name, { epochs, methods });

const json = (file: string) => JSON.parse(readFileSync(file, 'utf8'));
/** eval.json without its two wall-clock fields. */
const numbers = (file: string) => {
  const { trainSeconds: _t, trainTiming: _tt, evalSeconds: _e, ...rest } = json(file);
  return rest;
};
type Run = { id: string; dir: string; state: string; attempts: number };
const status = (dir: string) => {
  const r = vds(['sweep', 'status', dir, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { launcher: string; counts: Record<string, number>; runs: { id: string; state: string; epoch: number | null; message: string | null; job: { id: string } | null }[] };
};

describe('the local launcher: failed runs, status, cancel', () => {
  it('a failed run is not retried by a re-run, is shown as failed, and --retry-failed trains it from its checkpoint', () => {
    const root = tempDir('sweep-failed');
    const file = sweepFile(root, 'two', 20);
    const sweepDir = path.join(root, 'two');
    const first = vds(['sweep', '--config', file, '--results-dir', root, '--jobs', '2']);
    assert.equal(first.code, 0, first.stderr);
    const [failing, fine] = json(path.join(sweepDir, 'sweep.json')).runs as Run[];
    const evalBefore = numbers(path.join(failing.dir, 'eval.json'));
    const fineMtime = statSync(path.join(fine.dir, 'eval.json')).mtimeMs;

    // what a run that fails during its final evaluation leaves: status.json "failed" with the reason,
    // its checkpoints, no eval.json (how a run gets there is test/run-failure.test.ts)
    rmSync(path.join(failing.dir, 'eval.json'));
    const st = json(path.join(failing.dir, 'status.json'));
    writeFileSync(path.join(failing.dir, 'status.json'), JSON.stringify({ ...st, state: 'failed', message: 'RangeError: out of memory in step 10' }));

    const again = vds(['sweep', '--config', file, '--results-dir', root, '--jobs', '2']);
    assert.equal(again.code, 1, again.stderr);
    assert.match(again.stderr, /failed +\S+ \(earlier: RangeError: out of memory in step 10; not retried without --retry-failed\)/);
    assert.match(again.stderr, /0 trained, 1 already finished, 0 failed, 1 failed earlier \(not retried; --retry-failed retries them\)/);
    assert.match(again.stderr, /error: .*sweep\.json: 1 run\(s\) failed/);
    assert.ok(!existsSync(path.join(failing.dir, 'eval.json')), 'not retried');
    assert.equal(json(path.join(sweepDir, 'sweep.json')).runs[0].attempts, 1);

    const s = status(sweepDir);
    assert.equal(s.launcher, 'local');
    assert.deepEqual(s.counts, { finished: 1, running: 0, queued: 0, failed: 1, interrupted: 0, 'not started': 0 });
    assert.equal(s.runs[0].message, 'RangeError: out of memory in step 10');
    const table = vds(['sweep', 'status', sweepDir]);
    assert.match(table.stdout, new RegExp(`^${failing.id} +failed +20 of 20 +RangeError: out of memory in step 10$`, 'm'));

    const dry = vds(['sweep', '--config', file, '--results-dir', root, '--dry-run', '--retry-failed']);
    assert.match(dry.stdout, new RegExp(`^resume ${failing.id}$`, 'm'));
    const retried = vds(['sweep', '--config', file, '--results-dir', root, '--jobs', '2', '--retry-failed']);
    assert.equal(retried.code, 0, retried.stderr);
    assert.deepEqual(numbers(path.join(failing.dir, 'eval.json')), evalBefore, 'resumed from its checkpoint: the same numbers');
    assert.equal(statSync(path.join(fine.dir, 'eval.json')).mtimeMs, fineMtime, 'the finished run is not redone');
    assert.deepEqual(status(sweepDir).counts.finished, 2);
  });

  it('status shows a running local sweep, and cancel stops it with checkpoints', async () => {
    const root = tempDir('sweep-cancel');
    const file = sweepFile(root, 'long', 5000);
    const sweepDir = path.join(root, 'long');
    const sweep = vdsAsync(['sweep', '--config', file, '--results-dir', root, '--jobs', '1']);
    const s = await waitFor('the first run to be 10 epochs in', () => {
      if (!existsSync(path.join(sweepDir, 'sweep.json'))) return null;
      const st = status(sweepDir);
      return st.runs[0].state === 'running' && (st.runs[0].epoch ?? 0) >= 10 ? st : null;
    }, { seconds: 120 });
    assert.ok(s, 'the sweep started');
    assert.equal(s.runs[0].state, 'running');
    assert.match(s.runs[0].job!.id, /^pid \d+$/);
    assert.equal(s.runs[1].state, 'queued', 'the second waits for the first (--jobs 1)');

    const cancel = vds(['sweep', 'cancel', sweepDir]);
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.match(cancel.stderr, /stopped 1 run\(s\)/);
    const done = await sweep.done;
    assert.equal(done.code, 130, done.stderr);
    const after = status(sweepDir);
    assert.deepEqual(after.counts, { finished: 0, running: 0, queued: 0, failed: 0, interrupted: 1, 'not started': 1 });
    assert.ok(existsSync(path.join(json(path.join(sweepDir, 'sweep.json')).runs[0].dir, 'checkpoints', 'last.ckpt')));
  });
});

// The queue's pieces that need no Redis: job ids, what a child's exit means for its job, GPUs per slot,
// Redis URLs, the CLI's flags, and an unreachable Redis as one clear error naming it (real CLI).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { parseArgs } from '../src/cli/main.ts';
import { jobIdFor } from '../src/queue/jobs.ts';
import { outcomeOf, type ChildExit } from '../src/queue/train-child.ts';
import { planSlots, visibleGpus } from '../src/queue/devices.ts';
import { redactUrl, redisUrl } from '../src/queue/redis.ts';
import { VdsError } from '../src/util/errors.ts';
import { REPO, vds } from './helpers/cli.ts';
import { tempDir } from './helpers/tiny-run.ts';

describe('job ids', () => {
  it('derive from the run id and its directory, stably, in a form BullMQ accepts', () => {
    const id = jobIdFor('spirals-learnt-D3-s0-3fa2c1d9e0', '/shared/results/sweep/spirals-learnt-D3-s0-3fa2c1d9e0');
    assert.match(id, /^spirals-learnt-D3-s0-3fa2c1d9e0\.[0-9a-f]{8}$/);
    assert.equal(jobIdFor('spirals-learnt-D3-s0-3fa2c1d9e0', '/shared/results/sweep/spirals-learnt-D3-s0-3fa2c1d9e0'), id, 'the same run gets the same job');
    assert.notEqual(jobIdFor('spirals-learnt-D3-s0-3fa2c1d9e0', '/other/results/sweep/spirals-learnt-D3-s0-3fa2c1d9e0'), id, 'the same grid in another results directory is other runs');
    assert.throws(() => jobIdFor('a:b', '/r'), /cannot be a BullMQ job id/);
  });
});

describe("a child's exit", () => {
  const exit = (code: number | null, signal: NodeJS.Signals | null = null, errorLines = ''): ChildExit => ({ code, signal, errorLines, seconds: 1 });
  const cases: [string, ChildExit, boolean, string][] = [
    ['finished', exit(0), false, 'finished'],
    ['checkpointed when asked', exit(130), true, 'stopped'],
    ['killed by our SIGTERM before it could checkpoint (it had not started training)', exit(null, 'SIGTERM'), true, 'stopped'],
    ['interrupted by someone else', exit(130), false, 'crashed'],
    ['bad input (exit 2)', exit(2, null, 'c.yaml: data.paths: cannot read'), false, 'bad-input'],
    ['a run directory in use (exit 75)', exit(75), false, 'busy'],
    ['a training failure (exit 1)', exit(1, null, 'training failed: wasm abort'), false, 'crashed'],
    ['killed by a signal', exit(null, 'SIGKILL'), false, 'crashed'],
  ];
  for (const [what, e, asked, kind] of cases) it(`${what} → ${kind}`, () => assert.equal(outcomeOf(e, asked).kind, kind));
  it('carries the reason the child gave', () => {
    assert.deepEqual(outcomeOf(exit(2, null, 'c.yaml: data.paths: cannot read'), false), { kind: 'bad-input', reason: 'c.yaml: data.paths: cannot read' });
    assert.deepEqual(outcomeOf(exit(null, 'SIGKILL'), false), { kind: 'crashed', reason: 'vds train was killed by SIGKILL' });
  });
});

describe('GPUs per slot', () => {
  const none = () => [];
  it('come from CUDA_VISIBLE_DEVICES when set, else from the lister', () => {
    assert.deepEqual(visibleGpus({ CUDA_VISIBLE_DEVICES: '0,2' }, () => ['0', '1', '2']), ['0', '2']);
    assert.deepEqual(visibleGpus({ CUDA_VISIBLE_DEVICES: '' }, () => ['0']), []);
    assert.deepEqual(visibleGpus({ CUDA_VISIBLE_DEVICES: '-1' }, () => ['0']), []);
    assert.deepEqual(visibleGpus({}, () => ['0', '1']), ['0', '1']);
    assert.deepEqual(visibleGpus({}, none), []);
  });
  it('one run per GPU: each slot its own device, never more slots than GPUs', () => {
    assert.deepEqual(planSlots(['0', '1'], undefined, 8), { concurrency: 2, devices: ['0', '1'] });
    assert.deepEqual(planSlots(['3', '5'], 1, 8), { concurrency: 1, devices: ['3'] });
    assert.deepEqual(planSlots([], undefined, 2), { concurrency: 2, devices: [null, null] });
    assert.throws(() => planSlots(['0', '1'], 3, 8), (e: unknown) => e instanceof VdsError && e.key === '--concurrency' && /2 GPU\(s\) \(0, 1\)/.test(e.message));
  });
});

describe('Redis URLs', () => {
  it('are checked for shape, and never shown with their password', () => {
    assert.equal(redisUrl('redis://h:6379'), 'redis://h:6379');
    assert.throws(() => redisUrl('http://h:6379'), (e: unknown) => e instanceof VdsError && e.key === '--redis' && /redis:\/\/ or rediss:\/\//.test(e.message));
    assert.throws(() => redisUrl('h:6379:x'), (e: unknown) => e instanceof VdsError && /expected/.test(e.message));
    assert.equal(redactUrl('redis://:s3cret@h:6379/2'), 'redis://h:6379/2');
    assert.equal(redactUrl('redis://user:s3cret@h:6379'), 'redis://user@h:6379');
  });
});

describe('the CLI', () => {
  it('passes the queue flags to vds sweep and vds worker', async () => {
    assert.deepEqual(await parseArgs('sweep --config s.yaml --launcher queue --redis redis://h:1 --queue lab --attempts 5 --backoff 10'.split(' ')), {
      command: 'sweep',
      options: { config: 's.yaml', dryRun: false, set: [], launcher: 'queue', queue: { redis: 'redis://h:1', queue: 'lab', attempts: 5, backoff: 10 } },
    });
    assert.deepEqual(await parseArgs('worker --redis redis://h:1 --concurrency 2 --lock-duration 2 --stalled-interval 2.5 --max-stalled 40'.split(' ')), {
      command: 'worker',
      options: { redis: 'redis://h:1', concurrency: 2, lockDuration: 2, stalledInterval: 2.5, maxStalled: 40 },
    });
  });
  for (const [args, message] of [
    ['sweep --config s.yaml --redis redis://h:1', /^--redis applies only with --launcher queue$/],
    ['sweep --config s.yaml --launcher queue --attempts 0', /^--attempts expects a whole number ≥ 1, got 0$/],
    ['worker --concurrency 0', /^--concurrency expects a whole number ≥ 1, got 0$/],
  ] as const) {
    it(`refuses vds ${args}`, async () => {
      await assert.rejects(parseArgs(args.split(' ')), (e: unknown) => e instanceof VdsError && message.test(e.message));
    });
  }
});

describe('an unreachable Redis', () => {
  const sweep = path.join(REPO, 'configs/paper/quick-mnist.yaml');
  it('stops vds worker and vds sweep --launcher queue with one error naming the URL (not its password)', () => {
    for (const args of [
      ['worker', '--redis', 'redis://:s3cret@127.0.0.1:1'],
      ['sweep', '--config', sweep, '--launcher', 'queue', '--redis', 'redis://:s3cret@127.0.0.1:1', '--results-dir', tempDir('queue-unreachable')],
    ]) {
      const r = vds(args);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^error: --redis: cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)\n  hint: /m);
      assert.doesNotMatch(r.stderr, /s3cret/);
    }
  });
});

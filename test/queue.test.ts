// Sweeps through a real Redis queue (BullMQ) and real `vds worker` processes training tiny spirals
// networks: the same numbers as the local launcher, sending twice adds nothing, a SIGKILLed worker's run
// is resumed by another and ends bit-identical, a crash is retried and bad input is not, and a worker
// that cannot see the results directory refuses. Needs VDS_TEST_REDIS_URL (.ci/run starts one).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { Queue } from 'bullmq';
import { REPO, vds, vdsAsync } from './helpers/cli.ts';
import { tempDir } from './helpers/tiny-run.ts';
import {
  REDIS_URL, ENV, freshQueue, readJson, redis, runNumbers, skipWithoutRedis, startWorker, statusOf, stopAllWorkers, sweepFile, waitFor,
} from './helpers/queue.ts';

Object.assign(process.env, ENV); // also for vdsAsync's children

const root = tempDir('queue');
const used: string[] = [];
const queueName = (what: string) => {
  const q = freshQueue(what);
  used.push(q);
  return q;
};
const send = (file: string, resultsDir: string, queue: string, more: string[] = []) =>
  vds(['sweep', '--config', file, '--results-dir', resultsDir, '--launcher', 'queue', '--redis', REDIS_URL!, '--queue', queue, ...more], ENV);
const runsOf = (sweepDir: string): { id: string; dir: string; log: string }[] => readJson(path.join(sweepDir, 'sweep.json')).runs;
const finished = (dir: string) => statusOf(dir)?.state === 'finished' && existsSync(path.join(dir, 'eval.json'));
const attemptHeaders = (log: string) => readFileSync(log, 'utf8').match(/^--- .* attempt \d+ of \d+/gm) ?? [];
const ready = (w: { stderr(): string }) => /\] worker \S+: queue/.test(w.stderr());
// lock and stall check at 2 s (defaults 30 s): a killed worker's job changes hands in seconds
const FAST = ['--lock-duration', '2', '--stalled-interval', '2'];

describe('sweeps through a Redis queue', { skip: skipWithoutRedis }, () => {
  const client = skipWithoutRedis ? null : redis();
  const jobsOf = (queue: string) => new Queue(queue, { connection: client! });
  // the local launcher's numbers for the 4-run grid (40 epochs), the reference for the queue's
  const refRoot = path.join(root, 'local');
  const gridFile = sweepFile(root, 'grid', { epochs: 40 });
  let reference: Map<string, string>; // run id → run directory

  before(() => {
    const r = vds(['sweep', '--config', gridFile, '--results-dir', refRoot, '--jobs', '2'], ENV);
    assert.equal(r.code, 0, r.stderr);
    reference = new Map(runsOf(path.join(refRoot, 'grid')).map((x) => [x.id, x.dir]));
  });

  after(async () => {
    await stopAllWorkers();
    for (const q of used) {
      const queue = jobsOf(q);
      await queue.obliterate({ force: true });
      await queue.close();
    }
    client?.disconnect();
  });

  it("a 4-run sweep with two workers ends with the local launcher's numbers; sending it again adds nothing", async () => {
    const queue = queueName('grid');
    const qRoot = path.join(root, 'queued');
    const a = startWorker(queue);
    const b = startWorker(queue);
    await waitFor('both workers to start', () => ready(a) && ready(b));
    const first = send(gridFile, qRoot, queue);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /4 runs: 4 queued, 0 already in the queue, 0 finished/);
    const again = send(gridFile, qRoot, queue);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /4 runs: 0 queued, 4 already in the queue, 0 finished/);
    const counts = await jobsOf(queue).getJobCounts();
    assert.equal(Object.values(counts).reduce((s, n) => s + n, 0), 4, `four jobs in Redis, not eight: ${JSON.stringify(counts)}`);

    const sweepDir = path.join(qRoot, 'grid');
    const runs = runsOf(sweepDir);
    await waitFor('the four runs to finish', () => runs.every((r) => finished(r.dir)));
    assert.match(a.stderr(), /finished\s+spirals-/, 'worker a trained some');
    assert.match(b.stderr(), /finished\s+spirals-/, 'worker b trained some');
    for (const r of runs) {
      assert.deepEqual(runNumbers(r.dir), runNumbers(reference.get(r.id)!), `${r.id}: same numbers as the local launcher's`);
      assert.equal(attemptHeaders(r.log).length, 1, `${r.id} trained once`);
    }
    const third = send(gridFile, qRoot, queue);
    assert.match(third.stderr, /4 runs: 0 queued, 0 already in the queue, 4 finished/);
    assert.equal((await jobsOf(queue).getJobCounts()).completed, 4);
    for (const w of [a, b]) assert.equal((await w.stop()).code, 0, w.stderr());
  });

  it('SIGKILL one worker mid-run: the other resumes that run, and it ends bit-identical to an uninterrupted one', async () => {
    const queue = queueName('kill');
    const file = sweepFile(root, 'kill', { epochs: 120, methods: ['learnt'], depths: [3] });
    const uninterrupted = vdsAsync(['sweep', '--config', file, '--results-dir', path.join(root, 'kill-local'), '--jobs', '1']);
    const a = startWorker(queue, FAST);
    const b = startWorker(queue, FAST);
    await waitFor('both workers to start', () => ready(a) && ready(b));
    assert.equal(send(file, path.join(root, 'kill-queued'), queue).code, 0);
    const [run] = runsOf(path.join(root, 'kill-queued', 'kill'));
    const startLine = new RegExp(`start\\s+${run.id}`);
    const holder = await waitFor('10 epochs of the run under one worker', () => ((statusOf(run.dir)?.epoch ?? 0) >= 10 ? [a, b].find((w) => startLine.test(w.stderr())) : undefined));
    const other = holder === a ? b : a;
    holder.child.kill('SIGKILL');
    await waitFor('the run to finish under the other worker', () => finished(run.dir));
    // a stall does not use up an attempt: the resumed run is still on its first
    assert.match(other.stderr(), new RegExp(`resume\\s+${run.id} \\(attempt 1 of 3\\)`));
    assert.ok(readJson(path.join(run.dir, 'env.json')).resumedAt.length >= 1, 'resumed from the checkpoint');
    const job = (await jobsOf(queue).getJob(readJson(path.join(root, 'kill-queued', 'kill', 'queue.json')).jobs[run.id]))!;
    assert.equal(await job.getState(), 'completed');
    assert.ok(job.stalledCounter >= 1, 'the job stalled when its worker died');
    const ref = await uninterrupted.done;
    assert.equal(ref.code, 0, ref.stderr);
    const [refRun] = runsOf(path.join(root, 'kill-local', 'kill'));
    assert.deepEqual(runNumbers(run.dir), runNumbers(refRun.dir));
    assert.equal((await other.stop()).code, 0);
  });

  it('a crashing run is retried (and ends with the same numbers); a bad-input run fails once with its reason', async () => {
    const queue = queueName('faults');
    const crashFile = sweepFile(root, 'crash', { epochs: 40, methods: ['learnt'], depths: [1] }); // a run of the reference grid
    const missing = path.join(root, 'missing');
    const badFile = sweepFile(root, 'bad', {
      epochs: 2,
      methods: ['learnt'],
      depths: [1],
      base: path.join(REPO, 'configs/quickstart.yaml'),
      set: { 'data.name': 'mat', 'data.paths': { train: path.join(missing, 'train.mat'), test: path.join(missing, 'test.mat') } },
    });
    const w = startWorker(queue, ['--concurrency', '2']);
    for (const f of [crashFile, badFile]) assert.equal(send(f, root, queue, ['--attempts', '3', '--backoff', '1']).code, 0);
    const [crash] = runsOf(path.join(root, 'crash'));
    const [bad] = runsOf(path.join(root, 'bad'));
    // the child holds its run's lock file, with its pid: kill it as a machine's OOM killer would
    const pid = await waitFor('the crash run to start', () => {
      try {
        return Number(readFileSync(path.join(crash.dir, 'run.lock'), 'utf8')) || null;
      } catch {
        return null;
      }
    });
    process.kill(pid, 'SIGKILL');
    await waitFor('the crashed run to finish on its second attempt', () => finished(crash.dir));
    assert.match(w.stderr(), new RegExp(`crashed\\s+${crash.id}: vds train was killed by SIGKILL \\(attempt 1 of 3`));
    assert.deepEqual(attemptHeaders(crash.log).map((h) => /attempt (\d) of 3/.exec(h)![1]), ['1', '2']);
    assert.deepEqual(runNumbers(crash.dir), runNumbers(reference.get(crash.id)!));

    const q = jobsOf(queue);
    const badJob = (await q.getJob(readJson(path.join(root, 'bad', 'queue.json')).jobs[bad.id]))!;
    assert.equal(await badJob.getState(), 'failed');
    assert.equal(badJob.attemptsStarted, 1, 'bad input is not retried, although 3 attempts were allowed');
    assert.match(badJob.failedReason, /missing\/train\.mat: cannot read/);
    assert.match(w.stderr(), /bad input: not retried/);
    assert.equal((await w.stop()).code, 0);
  });

  it('a worker that cannot see the sweep directory refuses it and leaves the job queued', async () => {
    const queue = queueName('away');
    const file = sweepFile(root, 'away', { epochs: 2, methods: ['learnt'], depths: [1] });
    assert.equal(send(file, path.join(root, 'mounted'), queue).code, 0);
    // what a machine without the shared storage sees: no such directory
    renameSync(path.join(root, 'mounted'), path.join(root, 'unmounted'));
    const w = startWorker(queue);
    const r = await w.done;
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`error: ${path.join(root, 'mounted', 'away')}: cannot reach the sweep's results directory from this machine`));
    assert.doesNotMatch(r.stderr, /start\s+spirals/);
    const [job] = await jobsOf(queue).getJobs(['waiting']);
    assert.ok(job, 'the job is back in the queue');
    assert.equal(job.attemptsMade, 0);
  });
});

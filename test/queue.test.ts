// Sweeps through a real Redis queue (BullMQ) and real `vds worker` processes training tiny spirals
// networks: the same numbers as the local launcher, sending twice adds nothing, a SIGKILLed worker's run
// is resumed by another and ends bit-identical, a crash is retried and bad input is not, status and
// cancel show and stop the queue's part (SIGTERM and a cut connection hand runs back on the way), and a
// worker that cannot see the results directory refuses, and a Redis that dies and comes back empty is
// survived by sending the sweep again. Needs VDS_TEST_REDIS_URL (.ci/run starts one) and redis-server.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { REPO, vds, vdsAsync } from './helpers/cli.ts';
import { tempDir } from './helpers/tiny-run.ts';
import {
  REDIS_URL, ENV, assertRedisGiven, dropConnections, freshQueue, readJson, redis, runNumbers, skipWithoutRedis, startWorker, statusOf, stopAllWorkers, sweepFile, waitFor,
} from './helpers/queue.ts';
import { readLockOwner } from '../src/runs/lock.ts';

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
const logs = (...ws: { stderr(): string }[]) => ws.map((w) => w.stderr()).join('\n---\n');
const ready = (w: { stderr(): string }) => /\] worker \S+: queue/.test(w.stderr());
// lock and stall check at 2 s (defaults 30 s): a killed worker's job changes hands in seconds
const FAST = ['--lock-duration', '2', '--stalled-interval', '2'];

describe('sweeps through a Redis queue', { skip: skipWithoutRedis }, () => {
  const client = REDIS_URL ? redis() : null;
  const jobsOf = (queue: string) => new Queue(queue, { connection: client! });
  // the local launcher's numbers for the 4-run grid (40 epochs), the reference for the queue's
  const refRoot = path.join(root, 'local');
  const gridFile = sweepFile(root, 'grid', { epochs: 40 });
  let reference: Map<string, string>; // run id → run directory

  before(() => {
    assertRedisGiven();
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
    await waitFor('both workers to start', () => ready(a) && ready(b), { context: () => logs(a, b) });
    const first = send(gridFile, qRoot, queue);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /4 runs: 4 queued, 0 already in the queue, 0 finished/);
    const again = send(gridFile, qRoot, queue);
    assert.equal(again.code, 0, again.stderr);
    // the workers may already have finished some runs of this tiny sweep: none is queued twice either way
    const [, inQueue, done] = /4 runs: 0 queued, (\d) already in the queue, (\d) finished/.exec(again.stderr) ?? [];
    assert.equal(Number(inQueue) + Number(done), 4, again.stderr);
    const counts = await jobsOf(queue).getJobCounts();
    assert.equal(Object.values(counts).reduce((s, n) => s + n, 0), 4, `four jobs in Redis, not eight: ${JSON.stringify(counts)}`);

    const sweepDir = path.join(qRoot, 'grid');
    const runs = runsOf(sweepDir);
    await waitFor('the four runs to finish', () => runs.every((r) => finished(r.dir)), { context: () => logs(a, b) });
    // a worker reports a run finished a moment after its run directory says so
    const reported = () => [a, b].reduce((n, w) => n + (w.stderr().match(/finished\s+spirals-/g)?.length ?? 0), 0);
    await waitFor('the workers to report all four runs finished', () => reported() === 4 || undefined, { context: () => logs(a, b) });
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
    await waitFor('both workers to start', () => ready(a) && ready(b), { context: () => logs(a, b) });
    assert.equal(send(file, path.join(root, 'kill-queued'), queue).code, 0);
    const [run] = runsOf(path.join(root, 'kill-queued', 'kill'));
    const startLine = new RegExp(`start\\s+${run.id}`);
    const holder = await waitFor('10 epochs of the run under one worker', () => ((statusOf(run.dir)?.epoch ?? 0) >= 10 ? [a, b].find((w) => startLine.test(w.stderr())) : undefined), { context: () => logs(a, b) });
    const other = holder === a ? b : a;
    holder.child.kill('SIGKILL');
    await waitFor('the run to finish under the other worker', () => finished(run.dir), { context: () => logs(a, b) });
    // a stall does not use up an attempt: the resumed run is still on its first
    assert.match(other.stderr(), new RegExp(`resume\\s+${run.id} \\(attempt 1 of 3\\)`));
    assert.ok(readJson(path.join(run.dir, 'env.json')).resumedAt.length >= 1, 'resumed from the checkpoint');
    const job = (await jobsOf(queue).getJob(readJson(path.join(root, 'kill-queued', 'kill', 'sweep.json')).queue.jobs[run.id]))!;
    // the run directory says finished as the child exits; the worker marks the job completed just after
    await waitFor('the job to be completed', async () => (await job.getState()) === 'completed' || undefined, { context: () => logs(a, b) });
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
    // the bad one first: sending blocks this process for a second or two, and the crash run (2 s of training)
    // must still be running when the test looks for its child
    for (const f of [badFile, crashFile]) assert.equal(send(f, root, queue, ['--attempts', '3', '--backoff', '1']).code, 0);
    const [crash] = runsOf(path.join(root, 'crash'));
    const [bad] = runsOf(path.join(root, 'bad'));
    // the child holds its run's lock file, with its pid: kill it as a machine's OOM killer would
    const pid = await waitFor('the crash run to start', () => readLockOwner(crash.dir)?.pid ?? null, { context: () => logs(w) });
    process.kill(pid, 'SIGKILL');
    await waitFor('the crashed run to finish on its second attempt', () => finished(crash.dir), { context: () => logs(w) });
    assert.match(w.stderr(), new RegExp(`crashed\\s+${crash.id}: vds train was killed by SIGKILL \\(attempt 1 of 3`));
    assert.deepEqual(attemptHeaders(crash.log).map((h) => /attempt (\d) of 3/.exec(h)![1]), ['1', '2']);
    assert.deepEqual(runNumbers(crash.dir), runNumbers(reference.get(crash.id)!));

    const q = jobsOf(queue);
    const badId = readJson(path.join(root, 'bad', 'sweep.json')).queue.jobs[bad.id];
    // the worker marks the job failed a moment after its child exits: wait for that, then check it
    await waitFor('the bad-input job to be failed', async () => ((await (await q.getJob(badId))?.getState()) === 'failed' ? true : undefined), { context: () => logs(w) });
    const badJob = (await q.getJob(badId))!;
    assert.equal(await badJob.getState(), 'failed');
    assert.equal(badJob.attemptsStarted, 1, 'bad input is not retried, although 3 attempts were allowed');
    assert.match(badJob.failedReason, /data files do not exist: train = \S*missing\/train\.mat/);
    assert.match(w.stderr(), /bad input: not retried/);
    const st = JSON.parse(vds(['sweep', 'status', path.join(root, 'bad'), '--json'], ENV).stdout);
    assert.equal(st.runs[0].state, 'failed');
    assert.match(st.runs[0].message, /data files do not exist: train = \S*missing\/train\.mat/);
    assert.match(send(badFile, root, queue).stderr, /1 failed earlier \(not retried; --retry-failed retries them\)/);
    assert.equal(badJob.attemptsStarted, (await q.getJob(badJob.id!))!.attemptsStarted, 'sending again did not retry it');
    assert.equal((await w.stop()).code, 0);
  });

  it("status shows the queue's part; SIGTERM and a dropped connection checkpoint and hand back; cancel stops the rest", async () => {
    const queue = queueName('status');
    const file = sweepFile(root, 'long', { epochs: 3000, methods: ['learnt'], depths: [1, 2] }); // never left to finish
    assert.equal(send(file, root, queue).code, 0);
    const sweepDir = path.join(root, 'long');
    const runs = runsOf(sweepDir);
    const status = () => {
      const r = vds(['sweep', 'status', sweepDir, '--json'], ENV);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as { overview: string; counts: Record<string, number>; runs: { id: string; state: string; job: { state: string; running: boolean; reason: string } | null }[] };
    };
    // every start of a run, by which job on which machine (env.json, written before each start)
    const starts = (dir: string) => (readJson(path.join(dir, 'env.json')).scheduler?.attempts.length ?? 0) as number;
    let st = status();
    assert.equal(st.counts.queued, 2);
    assert.match(st.overview, /: 2 waiting; no worker connected$/);

    const w1 = startWorker(queue, ['--concurrency', '1']);
    const first = await waitFor('a run to train 3 epochs', () => runs.find((r) => (statusOf(r.dir)?.epoch ?? 0) >= 3), { context: () => logs(w1) });
    st = status();
    assert.deepEqual([st.counts.running, st.counts.queued], [1, 1]);
    const row = st.runs.find((r) => r.id === first.id)!;
    assert.equal(row.state, 'running');
    assert.match(row.job!.reason, new RegExp(`^attempt 1 of 3; held by \\S+/${w1.pid}$`));
    assert.match(st.overview, new RegExp(`: 1 active, 1 waiting; 1 worker\\(s\\) connected: \\S+/${w1.pid}$`));

    // SIGTERM: the run checkpoints, its job goes back to the queue, and the worker leaves
    const r1 = await w1.stop('SIGTERM');
    assert.equal(r1.code, 0, r1.stderr);
    assert.match(r1.stderr, new RegExp(`checkpointed ${first.id} .*back in the queue`));
    assert.equal(statusOf(first.dir)?.state, 'interrupted');
    assert.ok(existsSync(path.join(first.dir, 'checkpoints', 'last.ckpt')));
    st = status();
    assert.deepEqual([st.counts.running, st.counts.queued], [0, 2]);
    const stoppedAt = statusOf(first.dir)!.epoch;

    // a second worker takes both, resuming the one that was handed back
    const w2 = startWorker(queue, ['--concurrency', '2']);
    await waitFor('the handed-back run to train on', () => starts(first.dir) === 2 && statusOf(first.dir)!.epoch > stoppedAt, { context: () => logs(w2) });
    assert.match(w2.stderr(), new RegExp(`resume\\s+${first.id} \\(attempt 1 of 3\\)`));
    await waitFor('both runs to train', () => status().counts.running === 2, { context: () => logs(w2) });

    // its connection cut: the runs checkpoint (their locks would lapse), it reconnects and takes them up again
    assert.ok((await dropConnections(client!, w2.pid)) >= 1);
    const taken = (id: string) => w2.stderr().match(new RegExp(`(start|resume)\\s+${id}`, 'g'))?.length ?? 0;
    await waitFor('the worker to reconnect and take both again', () => /reconnected to Redis/.test(w2.stderr()) && runs.every((r) => taken(r.id) === 2) && status().counts.running === 2, { context: () => logs(w2) });
    assert.equal(starts(first.dir), 3, 'the run with a checkpoint resumed from it again');
    assert.match(w2.stderr(), /lost the connection to Redis: checkpointing 2 running run\(s\)/);

    // cancel: every job leaves the queue; the running runs checkpoint; the worker stays, idle
    const c = vds(['sweep', 'cancel', sweepDir], ENV);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stderr, /stopped 2 run\(s\)/);
    st = status();
    assert.deepEqual([st.counts.running, st.counts.queued, st.counts.interrupted], [0, 0, 2]);
    assert.match(st.overview, /: 2 not in the queue; 1 worker\(s\) connected/);
    assert.equal(w2.child.exitCode, null, 'the worker is still there');
    // (vds() blocks this process: let the worker's output in before reading it)
    await waitFor('the worker to report the cancellations', () => runs.every((r) => new RegExp(`cancelled\\s+${r.id}`).test(w2.stderr())), { context: () => logs(w2) });
    assert.equal((await w2.stop()).code, 0);

    // sending the sweep again continues it; cancel without workers just removes the jobs
    assert.match(send(file, root, queue).stderr, /2 runs: 2 queued, 0 already in the queue/);
    assert.equal(status().counts.queued, 2);
    assert.match(vds(['sweep', 'cancel', sweepDir], ENV).stderr, /removed 2 waiting job\(s\)/);
    assert.equal(status().counts.queued, 0);
  });

  it("Redis restarted empty mid-sweep: the worker keeps its run's checkpoint and reconnects; sending the sweep again finishes it with the local launcher's numbers", async () => {
    // a Redis of this test's own (no persistence), so that it can die and come back empty without touching the others
    const port = 6400 + (process.pid % 1000);
    const url = `redis://127.0.0.1:${port}`;
    const own = tempDir('redis-own');
    const startRedis = () => spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', own], { stdio: 'ignore' });
    const pings = async () => {
      const c = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
      c.on('error', () => undefined); // refused while it is down: that is what is being waited out
      try {
        await c.connect();
        return (await c.ping()) === 'PONG' || undefined;
      } catch {
        return undefined;
      } finally {
        c.disconnect();
      }
    };
    let server = startRedis();
    try {
      await waitFor('the private Redis to answer', pings);
      const queue = queueName('restart');
      const file = sweepFile(root, 'restart', { epochs: 400 });
      const local = vdsAsync(['sweep', '--config', file, '--results-dir', path.join(root, 'restart-local'), '--jobs', '1']);
      const w = startWorker(queue, ['--concurrency', '1'], url);
      await waitFor('the worker to start', () => ready(w), { context: () => logs(w) });
      const qRoot = path.join(root, 'restart-queued');
      const first = vds(['sweep', '--config', file, '--results-dir', qRoot, '--launcher', 'queue', '--redis', url, '--queue', queue], ENV);
      assert.equal(first.code, 0, first.stderr);
      const runs = runsOf(path.join(qRoot, 'restart'));
      const busy = await waitFor('one run finished and the next 5 epochs in', () => runs.some((r) => finished(r.dir)) ? runs.find((r) => !finished(r.dir) && (statusOf(r.dir)?.epoch ?? 0) >= 5) : undefined, { context: () => logs(w) });
      // Redis dies (SIGKILL: nothing saved) and comes back empty some seconds later
      server.kill('SIGKILL');
      await new Promise((r) => server.once('exit', r));
      await waitFor('the worker to notice', () => /lost the connection to Redis/.test(w.stderr()) || undefined, { context: () => logs(w) });
      await new Promise((r) => setTimeout(r, 5000));
      server = startRedis();
      await waitFor('the private Redis to answer again', pings);
      await waitFor('the worker to reconnect', () => /reconnected to Redis/.test(w.stderr()) || undefined, { context: () => logs(w) });
      assert.equal(statusOf(busy.dir)?.state, 'interrupted', 'the run it was training checkpointed');
      assert.ok(existsSync(path.join(busy.dir, 'checkpoints', 'last.ckpt')));
      // the queue is gone with Redis: sending the sweep again queues what is not finished, and nothing else
      const again = vds(['sweep', '--config', file, '--results-dir', qRoot, '--launcher', 'queue', '--redis', url, '--queue', queue], ENV);
      assert.equal(again.code, 0, again.stderr);
      const [, queued, done] = /4 runs: (\d) queued, 0 already in the queue, (\d) finished/.exec(again.stderr) ?? [];
      assert.equal(Number(queued) + Number(done), 4, again.stderr);
      assert.ok(Number(done) >= 1, again.stderr);
      await waitFor('the sweep to finish', () => runs.every((r) => finished(r.dir)), { context: () => logs(w) });
      assert.match(w.stderr(), new RegExp(`resume\\s+${busy.id}`), 'the interrupted run resumed from its checkpoint');
      const ref = await local.done;
      assert.equal(ref.code, 0, ref.stderr);
      const refDirs = new Map(runsOf(path.join(root, 'restart-local', 'restart')).map((x) => [x.id, x.dir]));
      for (const r of runs) assert.deepEqual(runNumbers(r.dir), runNumbers(refDirs.get(r.id)!), `${r.id}: the local launcher's numbers`);
      assert.equal((await w.stop()).code, 0, w.stderr());
    } finally {
      server.kill('SIGKILL');
    }
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

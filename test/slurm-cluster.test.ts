// `vds sweep --launcher slurm` against a real Slurm (slurmctld, slurmd and munged from Debian's packages,
// one node with 4 CPUs, 2 fake GPUs and MaxArraySize 4), started by scripts/ci/slurm-up.sh, which
// .ci/run calls. The cluster is found through VDS_TEST_SLURM_CONF; without it these tests are skipped
// locally, and fail where a cluster is required (CI=1 or VDS_TEST_REQUIRE_SLURM=1, as .ci/run sets).
// The runs are tiny spirals networks (seconds each); every number compared is a real training's.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { readCheckpoint } from '../src/runs/checkpoint.ts';
import { vds, vdsAsync } from './helpers/cli.ts';
import { tempDir } from './helpers/tiny-run.ts';
import { writeSpiralsSweep } from './helpers/spirals-sweep.ts';
import { waitFor as waitUntil } from './helpers/wait.ts';

const conf = process.env.VDS_TEST_SLURM_CONF;
const required = Boolean(process.env.CI) || process.env.VDS_TEST_REQUIRE_SLURM === '1';
const env = { SLURM_CONF: conf ?? '' };
const tag = `t${process.pid}`; // job names of this test run, apart from any earlier run's on the same cluster
const names: string[] = [];

function slurm(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Polls until `cond` holds; the limit only keeps a broken cluster from hanging the suite. */
const waitFor = <T>(what: string, cond: () => T) => waitUntil(what, cond, { seconds: 120 });

/** A tiny spirals sweep named `<tag>-<name>` (so its jobs are this test run's). */
function sweepFile(dir: string, name: string, grid: { methods?: string[]; depths?: number[]; seeds?: number[]; epochs: number }): { file: string; name: string } {
  const full = `${tag}-${name}`;
  names.push(full);
  return { file: writeSpiralsSweep(dir, name, full, { depths: [2], ...grid }), name: full };
}

interface StatusJson {
  counts: Record<string, number>;
  runs: { id: string; state: string; epoch: number | null; epochs: number; checkpoint: boolean; job: { id: string; state: string; reason?: string; restarts?: number } | null; restarts: number | null }[];
}
function status(sweepDir: string): StatusJson {
  const r = vds(['sweep', 'status', sweepDir, '--json'], env);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as StatusJson;
}

const queued = (name: string): string[] => slurm('squeue', ['--noheader', '--array', `--name=vds-${name}`, '--Format=ArrayJobID:_,ArrayTaskID:|,State:|,Reason:|']).split('\n').filter(Boolean);
const json = (file: string) => JSON.parse(readFileSync(file, 'utf8'));
const manifestRuns = (sweepDir: string): { id: string; dir: string; log: string }[] => json(path.join(sweepDir, 'sweep.json')).runs;

/** eval.json without the two wall-clock fields, which no two runs share. */
function numbers(dir: string): Record<string, unknown> {
  const { trainSeconds: _t, trainTiming: _tt, evalSeconds: _e, ...rest } = json(path.join(dir, 'eval.json'));
  return rest;
}

async function allFinished(sweepDir: string, n: number): Promise<StatusJson> {
  return waitFor(`${n} finished runs in ${sweepDir}`, () => {
    const s = status(sweepDir);
    // "interrupted" can show for a moment while a requeued job passes from COMPLETING to PENDING; failed cannot
    assert.equal(s.counts.failed, 0, JSON.stringify(s.runs.map((r) => [r.id, r.state])));
    return s.counts.finished === n ? s : null;
  });
}

describe('vds sweep --launcher slurm on a real Slurm', { skip: conf || required ? false : 'no test cluster (scripts/ci/slurm-up.sh DIR, then VDS_TEST_SLURM_CONF=DIR/slurm.conf)' }, () => {
  before(() => {
    assert.ok(conf, 'a Slurm test cluster is required here (CI): .ci/run starts one and sets VDS_TEST_SLURM_CONF');
    assert.match(slurm('sinfo', ['--noheader', '--Format=StateLong']), /idle|mixed|allocated/);
  });
  after(() => {
    if (conf) for (const n of names) spawnSync('scancel', [`--name=vds-${n}`], { env: { ...process.env, ...env } });
  });

  const root = tempDir('slurm-cluster');
  const four = sweepFile(root, 'four', { depths: [1, 2], epochs: 100 }); // long enough for two to overlap
  const fourDir = path.join(root, 'slurm', four.name);

  it('trains a 4-run sweep with one fake GPU per task, two at a time, to the numbers of the local launcher', async () => {
    const local = vdsAsync(['sweep', '--config', four.file, '--results-dir', path.join(root, 'local'), '--jobs', '2']);
    const sub = vds(['sweep', '--config', four.file, '--results-dir', path.join(root, 'slurm'), '--launcher', 'slurm', '--gres', 'gpu:1'], env);
    assert.equal(sub.code, 0, sub.stderr);
    assert.equal(sub.stdout.trim(), fourDir);
    assert.match(sub.stderr, /submitted 4 run\(s\) as job \d+ \(4 tasks\)/);
    await allFinished(fourDir, 4);
    assert.equal((await local.done).code, 0, local.output().stderr);

    const runs = manifestRuns(fourDir);
    const intervals: [number, number][] = [];
    for (const r of runs) {
      assert.deepEqual(numbers(r.dir), numbers(path.join(root, 'local', four.name, r.id)), `${r.id}: same eval.json as the local launcher`);
      const e = json(path.join(r.dir, 'env.json'));
      assert.match(e.scheduler.jobId, /^\d+_[0-3]$/);
      assert.equal(e.scheduler.restarts, 0);
      intervals.push([Date.parse(e.startedAt), Date.parse(e.endedAt)]);
      const log = readFileSync(r.log, 'utf8');
      assert.match(log, new RegExp(`\\[vds task .*\\] job ${e.scheduler.jobId} .*: run ${r.id}`), 'the task wrote into the run\'s log');
      assert.match(log, /^epoch 100\/100 /m, 'and so did vds train');
    }
    // two GPUs, one per task: never more than two runs at once, though four CPUs would allow four
    const most = Math.max(...intervals.map(([s]) => intervals.filter(([a, b]) => a <= s && s < b).length));
    assert.equal(most, 2, `runs at once: ${JSON.stringify(intervals)}`);
  });

  it('a re-submitted sweep skips its finished runs', () => {
    const before = manifestRuns(fourDir).map((r) => statSync(path.join(r.dir, 'eval.json')).mtimeMs);
    const again = vds(['sweep', '--config', four.file, '--results-dir', path.join(root, 'slurm'), '--launcher', 'slurm', '--gres', 'gpu:1'], env);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /submitted 0 run\(s\) .*; 4 already finished, 0 already queued or running/);
    assert.deepEqual(queued(four.name), []);
    assert.deepEqual(manifestRuns(fourDir).map((r) => statSync(path.join(r.dir, 'eval.json')).mtimeMs), before);
  });

  it('splits a grid over MaxArraySize, does not submit queued runs twice, shows them, and cancels them', () => {
    const six = sweepFile(root, 'six', { seeds: [0, 1, 2], epochs: 5 }); // 6 runs, MaxArraySize 4
    const sixDir = path.join(root, 'slurm', six.name);
    const args = ['sweep', '--config', six.file, '--results-dir', path.join(root, 'slurm'), '--launcher', 'slurm', '--sbatch=--hold'];
    const sub = vds(args, env);
    assert.equal(sub.code, 0, sub.stderr);
    assert.match(sub.stderr, /submitted 6 run\(s\) as job (\d+) \(4 tasks\), (\d+) \(2 tasks\) \(MaxArraySize 4\)/);
    for (const [n, range] of [[1, '0-3'], [2, '0-1']]) assert.match(readFileSync(path.join(sixDir, 'slurm', `array-${n}.sbatch`), 'utf8'), new RegExp(`^#SBATCH --array=${range}$`, 'm'));
    assert.equal(queued(six.name).length, 6);

    const s = status(sixDir);
    assert.deepEqual(s.counts, { finished: 0, running: 0, queued: 6, failed: 0, interrupted: 0, 'not started': 0 });
    assert.ok(s.runs.every((r) => r.job?.state === 'PENDING' && r.job.reason === 'JobHeldUser'), JSON.stringify(s.runs.map((r) => r.job)));
    assert.equal(new Set(s.runs.map((r) => r.job!.id)).size, 6, 'one task per run');
    const table = vds(['sweep', 'status', sixDir], env);
    assert.match(table.stdout, /^6 runs: 0 finished, 0 running, 6 queued/m);

    const again = vds(args, env);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /submitted 0 run\(s\) .*; 0 already finished, 6 already queued or running/);
    assert.equal(queued(six.name).length, 6, 'nothing submitted twice');

    const cancel = vds(['sweep', 'cancel', sixDir], env);
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.match(cancel.stderr, /stopped 6 run\(s\)/);
    assert.deepEqual(queued(six.name), []);
    assert.equal(status(sixDir).counts['not started'], 6);
  });

  it('a run preempted mid-training checkpoints, requeues itself and ends bit-identical to an uninterrupted run', async () => {
    const pre = sweepFile(root, 'pre', { methods: ['learnt'], epochs: 200 });
    const preDir = path.join(root, 'slurm', pre.name);
    const straight = vdsAsync(['sweep', '--config', pre.file, '--results-dir', path.join(root, 'local'), '--jobs', '1']);
    const sub = vds(['sweep', '--config', pre.file, '--results-dir', path.join(root, 'slurm'), '--launcher', 'slurm'], env);
    assert.equal(sub.code, 0, sub.stderr);
    const running = await waitFor('the run to be 20 epochs in', () => {
      const r = status(preDir).runs[0];
      return r.state === 'running' && (r.epoch ?? 0) >= 20 ? r : null;
    });
    assert.equal(running.epochs, 200);
    assert.equal(running.job?.state, 'RUNNING');
    const job = running.job!.id;

    slurm('scancel', ['--batch', '--signal=USR1', job]); // what --signal=B:USR1@S sends before the time limit
    const requeued = await waitFor('the task to requeue itself', () => {
      const r = status(preDir).runs[0];
      return r.state === 'queued' ? r : null;
    });
    assert.equal(requeued.job?.restarts, 1);
    assert.ok(requeued.checkpoint);
    const stoppedAt = requeued.epoch!;
    assert.ok(stoppedAt >= 20 && stoppedAt < 200, `stopped at epoch ${stoppedAt}`);
    slurm('scontrol', ['update', `JobId=${job}`, 'StartTime=now']); // skip the requeue's ~120 s hold
    await allFinished(preDir, 1);
    assert.equal((await straight.done).code, 0, straight.output().stderr);

    const [run] = manifestRuns(preDir);
    const twin = path.join(root, 'local', pre.name, run.id);
    assert.deepEqual(numbers(run.dir), numbers(twin));
    const last = (dir: string) => readCheckpoint(path.join(dir, 'checkpoints', 'last.ckpt')).header.dataSha256;
    assert.equal(last(run.dir), last(twin), 'final weights, statistics and optimiser state bit-identical');
    const e = json(path.join(run.dir, 'env.json'));
    assert.equal(e.resumedAt.length, 1);
    assert.deepEqual(e.scheduler.attempts.map((a: { jobId: string; restarts: number }) => [a.jobId, a.restarts]), [[job, 0], [job, 1]]);
    const log = readFileSync(run.log, 'utf8');
    const order = ['restart 0)', 'starting fresh', 'USR1', 'requeueing job', 'restart 1)', 'resuming from', 'epoch 200/200'].map((m) => log.indexOf(m));
    assert.ok(order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1])), `one log, appended across the requeue: ${order}`);
    assert.match(log, new RegExp(`^epoch ${stoppedAt + 1}/200 `, 'm'));
  });

  it('a task that reaches its time limit with no warning signal checkpoints, requeues itself and resumes', async () => {
    const tl = sweepFile(root, 'tlimit', { methods: ['fixed'], epochs: 50000 });
    const tlDir = path.join(root, 'slurm', tl.name);
    const sub = vds(['sweep', '--config', tl.file, '--results-dir', path.join(root, 'slurm'), '--launcher', 'slurm', '--signal-before', '0', '--time', '10'], env);
    assert.equal(sub.code, 0, sub.stderr);
    const running = await waitFor('the run to be 10 epochs in', () => {
      const r = status(tlDir).runs[0];
      return r.state === 'running' && (r.epoch ?? 0) >= 10 ? r : null;
    });
    const job = running.job!.id;
    // the shortest limit Slurm has (1 minute of run time): reached within about a minute and a half
    slurm('scontrol', ['update', `JobId=${job}`, 'TimeLimit=1']);
    const requeued = await waitUntil('the time limit, then the task requeueing itself', () => {
      const r = status(tlDir).runs[0];
      return r.state === 'queued' ? r : null;
    }, { seconds: 240 });
    assert.equal(requeued.job?.restarts, 1);
    assert.ok(requeued.checkpoint);
    const stoppedAt = requeued.epoch!;
    slurm('scontrol', ['update', `JobId=${job}`, 'TimeLimit=10']);
    await waitUntil('the resumed run to train on', () => {
      // skip the requeue's hold (BeginTime, ~120 s): Slurm sets it only once the ended job has left COMPLETING,
      // so it is lifted whenever the job is seen pending
      if (queued(tl.name).some((l) => l.includes('PENDING'))) slurm('scontrol', ['update', `JobId=${job}`, 'StartTime=now']);
      return (status(tlDir).runs[0].epoch ?? 0) >= stoppedAt + 5 ? true : null;
    }, { seconds: 120, context: () => `${JSON.stringify(status(tlDir).runs[0])}\n${queued(tl.name).join('\n')}\n${readFileSync(manifestRuns(tlDir)[0].log, 'utf8').split('\n').filter((l) => !l.startsWith('epoch')).slice(-15).join('\n')}` });
    const log = readFileSync(manifestRuns(tlDir)[0].log, 'utf8');
    const order = ['restart 0)', 'starting fresh', 'DUE TO TIME LIMIT', 'time limit was reached without a warning', 'requeueing job', 'restart 1)', 'resuming from'].map((m) => log.indexOf(m));
    assert.ok(order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1])), `log order ${order}:\n${log.slice(-3000)}`);
    assert.match(log, new RegExp(`^epoch ${stoppedAt + 1}/50000 `, 'm'));
    const cancel = vds(['sweep', 'cancel', tlDir], env);
    assert.equal(cancel.code, 0, cancel.stderr);
  });

  it('cancel stops a running task with a checkpoint and it does not come back', async () => {
    const long = sweepFile(root, 'long', { methods: ['fixed'], epochs: 5000 });
    const longDir = path.join(root, 'slurm', long.name);
    const sub = vds(['sweep', '--config', long.file, '--results-dir', path.join(root, 'slurm'), '--launcher', 'slurm'], env);
    assert.equal(sub.code, 0, sub.stderr);
    await waitFor('the run to be 10 epochs in', () => (status(longDir).runs[0].epoch ?? 0) >= 10);
    const cancel = vds(['sweep', 'cancel', longDir], env);
    assert.equal(cancel.code, 0, cancel.stderr);
    // cancel returns once the sweep has nothing left in the queue: a task that requeued itself would be there
    assert.deepEqual(queued(long.name), []);
    const [r] = status(longDir).runs;
    assert.equal(r.state, 'interrupted');
    assert.ok(r.checkpoint && (r.epoch ?? 0) >= 10 && (r.epoch ?? 0) < 5000);
    assert.equal(json(path.join(manifestRuns(longDir)[0].dir, 'status.json')).state, 'interrupted', 'it checkpointed on the way out');
    assert.match(readFileSync(manifestRuns(longDir)[0].log, 'utf8'), /not requeued/);
    assert.ok(existsSync(path.join(manifestRuns(longDir)[0].dir, 'checkpoints', 'last.ckpt')));
  });
});

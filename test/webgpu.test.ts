// The two WebGPU paths against the same ground truth as cpu and wasm. TF.js's own WebGPU backend
// (webgpu-tfjs: Dawn's Node bindings + @tensorflow/tfjs-backend-webgpu): the reference-parity and precise-BN
// fixtures to 1e-4 and no leaked tensors. vds's engine (backend webgpu; its kernels and fixtures are in
// engine.test.ts): a real training run from the CLI close to wasm's, an interrupted run that resumes to the
// same bits, prune and eval on it equal to wasm's on the same checkpoint, its bench figures; and 'auto'
// declining a software adapter. Here they run on SwiftShader, the software Vulkan driver in Debian's
// chromium package (.ci/run installs it): correctness, not speed — a step is ~100× slower than wasm, so
// every size is small. Without an adapter the tests are skipped, and fail where one is required
// (CI=1 or VDS_TEST_REQUIRE_WEBGPU=1).
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tf } from '../src/tf/tf.ts';
import { selectBackend } from '../src/tf/backend.ts';
import { SWIFTSHADER_ICD } from '../src/tf/webgpu.ts';
import { loadReferenceCases } from './helpers/reference.ts';
import { checkCase } from './helpers/parity-checks.ts';
import { check, checkPruned, fixture } from './helpers/precise-bn-checks.ts';
import { vds, vdsAsync } from './helpers/cli.ts';
import { tempDir } from './helpers/tiny-run.ts';
import type { EvalRecord } from '../src/runs/layout.ts';
import { tryPlanMemory } from '../src/train/memory.ts';
import { defaultConfig } from '../src/config/defaults.ts';
import { VdsError } from '../src/util/errors.ts';

const required = Boolean(process.env.CI) || process.env.VDS_TEST_REQUIRE_WEBGPU === '1';
// without a driver named, use SwiftShader where chromium provides it (the Vulkan loader reads this when
// Dawn creates its instance, so it must be set before the first selectBackend)
if (!process.env.VK_ICD_FILENAMES && !process.env.VK_DRIVER_FILES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;

let unavailable: string | null = null;
try {
  await selectBackend('webgpu-tfjs');
} catch (e) {
  unavailable = e instanceof Error ? e.message : String(e);
}
const skip = unavailable && !required ? `no WebGPU adapter here (${unavailable})` : false;

function requireAdapter(): void {
  if (unavailable) assert.fail(`WebGPU is required here (CI or VDS_TEST_REQUIRE_WEBGPU=1) but unavailable: ${unavailable}`);
}

describe('webgpu-tfjs: reference parity and precise BatchNorm statistics', { skip }, () => {
  before(requireAdapter);
  for (const c of loadReferenceCases()) it(`reference parity: ${c.name}`, () => checkCase(c, false));
  it(`precise statistics reproduce ${fixture.case}`, check);
  it('a network pruned at d* and recalibrated predicts the truncated marginal', checkPruned);
  it('leaks no tensor', async () => {
    const before = tf.memory().numTensors;
    await check();
    assert.equal(tf.memory().numTensors, before);
  });
});

describe('webgpu: the memory plan knows the adapter', { skip }, () => {
  before(requireAdapter);
  it("refuses a step whose largest tensor exceeds the adapter's largest binding, advising a batch that fits", () => {
    const model = { ...defaultConfig().model, kind: 'conv' as const, maxDepth: 2, outerWidth: 64, innerWidth: 32 };
    const step = (batchSize: number) => tryPlanMemory({ model, inputShape: [28, 28, 1], batchSize, replicas: 1, backend: 'webgpu', mode: 'auto' });
    const refused = step(8192); // the stem's output: 8192 × 24 × 24 × 64 floats ≈ 1.1 GiB, over SwiftShader's 1 GiB
    assert.ok(refused instanceof VdsError, 'refused');
    assert.match(refused.message, /larger than the WebGPU adapter's largest (storage binding|buffer) \(1\.0 GiB\)/);
    const advised = Number(/train\.batchSize=(\d+)/.exec(refused.hint ?? '')?.[1]);
    assert.ok(advised > 0 && advised < 8192 && !(step(advised) instanceof VdsError) && step(advised + 1) instanceof VdsError, `advised ${advised}`);
  });
});

/** The comparison run: 400 real digits, D = 3, widths 8/4, batch 50, lr 0.02, 3 epochs. */
function tinyConfig(dir: string): string {
  const file = path.join(dir, 'tiny.yaml');
  writeFileSync(
    file,
    [
      'experiment: webgpu',
      'data: { name: mnist-fixture, limit: 400, testLimit: 200 }',
      'model: { maxDepth: 3, outerWidth: 8, innerWidth: 4 }',
      'train: { batchSize: 50, epochs: 3, evalBatchSize: 200, lr: 0.02 }',
      'eval: { calibrationBatches: 2 }',
      '',
    ].join('\n'),
  );
  return file;
}

function metricsRows(runDir: string): Record<string, number>[] {
  const [head, ...rows] = readFileSync(path.join(runDir, 'metrics.csv'), 'utf8').trim().split('\n');
  const cols = head.split(',');
  return rows.map((r) => Object.fromEntries(r.split(',').map((v, i) => [cols[i], Number(v)])));
}

const evalOf = (runDir: string): EvalRecord => JSON.parse(readFileSync(path.join(runDir, 'eval.json'), 'utf8')) as EvalRecord;

describe("webgpu (vds's engine): vds train, prune, eval and bench from the CLI", { skip }, () => {
  before(requireAdapter);
  const root = tempDir('webgpu-cli');
  const config = tinyConfig(root);
  const run = (backend: string, id: string, extra: string[] = []) =>
    vds(['train', '-c', config, '--backend', backend, '--results-dir', root, '--run-id', id, '--progress', 'none', '--threads', '1', ...extra]);

  // at lr 0.02 (wasm on one thread against two differs by 6e-5 relative in the third epoch's loss here)
  it('trains close to wasm: per-epoch loss within 2e-4 relative, test accuracy within 1.5 points', () => {
    const gpu = run('webgpu', 'gpu');
    assert.equal(gpu.code, 0, gpu.stderr);
    const cpu = run('wasm', 'wasm');
    assert.equal(cpu.code, 0, cpu.stderr);
    const dir = (id: string) => path.join(root, 'webgpu', id);
    const env = JSON.parse(readFileSync(path.join(dir('gpu'), 'env.json'), 'utf8'));
    assert.equal(env.backend, 'webgpu');
    assert.equal(env.engine, 'vds-webgpu', 'env.json says which engine trained');
    assert.ok(env.webgpu?.maxBufferSize > 0 && env.webgpu.device, 'env.json records the adapter and its limits');
    const [a, b] = [metricsRows(dir('gpu')), metricsRows(dir('wasm'))];
    assert.equal(a.length, 3);
    for (const [k, r] of a.entries()) {
      const rel = Math.abs(r.train_loss - b[k].train_loss) / Math.abs(b[k].train_loss);
      assert.ok(rel < 2e-4, `epoch ${k + 1}: train loss ${r.train_loss} on webgpu vs ${b[k].train_loss} on wasm (relative ${rel.toExponential(2)})`);
    }
    const [ea, eb] = [evalOf(dir('gpu')), evalOf(dir('wasm'))];
    assert.ok(Math.abs(ea.marginal.accuracy - eb.marginal.accuracy) <= 0.015 + 1e-9, `test accuracy ${ea.marginal.accuracy} vs ${eb.marginal.accuracy}`);
  });

  it('an interrupted run resumes to the uninterrupted bits (same engine)', async () => {
    const uninterrupted = path.join(root, 'webgpu', 'gpu');
    assert.ok(existsSync(path.join(uninterrupted, 'eval.json')), 'the uninterrupted run of the test above');
    // stop a second run with SIGINT once its first epoch is written, then resume it
    const child = vdsAsync(['train', '-c', config, '--backend', 'webgpu', '--results-dir', root, '--run-id', 'stopped', '--progress', 'plain']);
    const stoppedDir = path.join(root, 'webgpu', 'stopped');
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (existsSync(path.join(stoppedDir, 'metrics.csv'))) {
          clearInterval(timer);
          child.child.kill('SIGINT');
          resolve();
        }
      }, 200);
      child.child.on('close', () => {
        clearInterval(timer);
        resolve();
      });
      setTimeout(() => reject(new Error('no epoch written in 5 min')), 300_000).unref();
    });
    const first = await child.done;
    assert.ok(!existsSync(path.join(stoppedDir, 'eval.json')), `the run was stopped before it finished: ${first.stdout}${first.stderr}`);
    const resumed = vds(['train', '--resume', stoppedDir, '--backend', 'webgpu', '--progress', 'none']);
    assert.equal(resumed.code, 0, resumed.stderr);
    const [a, b] = [evalOf(stoppedDir), evalOf(uninterrupted)];
    assert.deepEqual(metricsRows(stoppedDir).map((r) => r.train_loss), metricsRows(uninterrupted).map((r) => r.train_loss));
    assert.deepEqual([a.marginal, a.q], [b.marginal, b.q]);
  });

  it('vds prune and vds eval on webgpu give the numbers wasm gives on the same checkpoint', () => {
    const dir = path.join(root, 'webgpu', 'gpu');
    const readJson = (f: string) => JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
    const on = (backend: string) => {
      const p = vds(['prune', dir, '--backend', backend]);
      assert.equal(p.code, 0, p.stderr);
      const e = vds(['eval', dir, '--backend', backend, '--rotations']);
      assert.equal(e.code, 0, e.stderr);
      return { prune: readJson('prune.json'), robustness: readJson('robustness.json') };
    };
    const [gpu, cpu] = [on('webgpu'), on('wasm')];
    assert.equal(gpu.prune.depth, cpu.prune.depth);
    for (const net of ['full', 'pruned']) {
      const [a, b] = [gpu.prune[net].metrics, cpu.prune[net].metrics];
      assert.ok(Math.abs(a.accuracy - b.accuracy) <= 0.01 + 1e-9, `${net}: accuracy ${a.accuracy} vs ${b.accuracy}`);
      assert.ok(Math.abs(a.logLikelihood - b.logLikelihood) < 1e-3 * Math.abs(b.logLikelihood), `${net}: LL ${a.logLikelihood} vs ${b.logLikelihood}`);
    }
    assert.equal(gpu.robustness.rotations.length, cpu.robustness.rotations.length);
    for (const [k, r] of gpu.robustness.rotations.entries()) {
      const w = cpu.robustness.rotations[k];
      assert.ok(Math.abs(r.accuracy - w.accuracy) <= 0.01 + 1e-9 && Math.abs(r.logLikelihood - w.logLikelihood) < 1e-3 * Math.abs(w.logLikelihood), `rotated ${r.degrees}°: ${JSON.stringify([r, w])}`);
    }
  });

  it('vds bench times both WebGPU paths: engine, dispatches and encode time per step, no leaked tensor', () => {
    const row = (backend: string, env: Record<string, string> = {}) => {
      const r = vds(['bench', '--backend', backend, '--depth', '1', '--batch', '4', '--reps', '1', '--json'], env);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout.trim().split('\n').pop()!);
    };
    const [engine, tfjs] = [row('webgpu'), row('webgpu-tfjs')];
    assert.deepEqual([engine.backend, engine.engine, engine.null_device], ['webgpu', 'vds-webgpu', false]);
    assert.deepEqual([tfjs.backend, tfjs.engine], ['webgpu-tfjs', 'tfjs-webgpu']);
    for (const r of [engine, tfjs]) {
      assert.equal(r.tensors_leaked, 0);
      assert.ok(r.train_step_ms > 0 && r.eval_batch_ms > 0 && r.encode_ms_per_step > 0, JSON.stringify(r));
      assert.ok(r.dispatches_per_step > r.dispatches_per_eval_batch && r.dispatches_per_eval_batch > 0, JSON.stringify(r));
    }
    // one depth: the engine's planned step against TF.js's kernel-per-op step
    assert.ok(engine.dispatches_per_step < tfjs.dispatches_per_step, `${engine.dispatches_per_step} vs ${tfjs.dispatches_per_step} dispatches`);
    const none = row('webgpu', { VDS_DAWN_BACKEND: 'null' });
    assert.equal(none.null_device, true);
    assert.equal(none.dispatches_per_step, engine.dispatches_per_step, 'the same plan on the null device');
    // a plan bigger than the device (Dawn's null device holds 512 MiB; D = 100 at batch 512 needs ~3.7 GiB) is
    // refused before it runs, saying how much the engine asked for, not trained on as silent zeros
    const big = vds(['bench', '--backend', 'webgpu', '--depth', '100', '--batch', '512', '--reps', '1', '--json'], { VDS_DAWN_BACKEND: 'null' });
    assert.equal(big.code, 1, big.stderr);
    assert.match(big.stderr, /^error: the engine's train pass \(batch 512, depth 100\) does not fit the GPU's memory: .*\(the engine asked for 3\.\d\d GiB in all\)\n {2}hint: a smaller train\.batchSize/m);
  });
});

describe('webgpu: a network the engine does not cover', { skip }, () => {
  before(requireAdapter);
  it('the fully connected spirals network trains on TF.js (wasm), and the run says so', () => {
    const root = tempDir('webgpu-fc');
    const r = vds(['train', '-c', 'configs/spirals.yaml', '--backend', 'webgpu', '--set', 'train.epochs=2', '--results-dir', root, '--progress', 'plain']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout + r.stderr, /vds's WebGPU engine covers the conv network; this fc network trains on TF\.js \(wasm\)/);
    const env = JSON.parse(readFileSync(path.join(r.stdout.trim().split('\n').pop()!, 'env.json'), 'utf8'));
    assert.equal(env.backend, 'webgpu');
    assert.equal(env.engine, undefined, 'no engine trained it');
  });
});

describe("webgpu: 'auto' and vds doctor", { skip }, () => {
  before(requireAdapter);
  it('auto skips a software adapter, naming it, and vds doctor shows the adapter and its driver', () => {
    const r = vds(['doctor', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    const webgpu = report.attempts.find((a: { name: string }) => a.name === 'webgpu');
    assert.equal(webgpu.ok, false);
    assert.match(webgpu.reason, /software/);
    assert.notEqual(report.backend, 'webgpu');
    assert.equal(report.webgpu.adapter.software, true);
    assert.match(report.webgpu.driver.summary, /driver/);
  });
  it('VDS_WEBGPU_ADAPTER picks an adapter by index or name, recorded in the report; a wrong one is refused naming what exists', () => {
    const ok = vds(['doctor', '--backend', 'webgpu', '--json'], { VDS_WEBGPU_ADAPTER: '0' });
    assert.equal(ok.code, 0, ok.stderr);
    const report = JSON.parse(ok.stdout);
    assert.equal(report.webgpu.adapter.selectedBy, 'VDS_WEBGPU_ADAPTER=0');
    assert.equal(report.engine, 'vds-webgpu');
    assert.ok(report.engineCheck.ok && report.engineCheck.maxRelError < 1e-4, `the engine's kernel check on the adapter: ${JSON.stringify(report.engineCheck)}`);
    const bad = vds(['doctor', '--backend', 'webgpu'], { VDS_WEBGPU_ADAPTER: '7' });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stdout + bad.stderr, /VDS_WEBGPU_ADAPTER=7, but Dawn lists 1 adapter\(s\): 0 vulkan: /);
    const none = vds(['doctor', '--backend', 'webgpu'], { VDS_WEBGPU_ADAPTER: 'no-such-gpu' });
    assert.notEqual(none.code, 0);
    assert.match(none.stdout + none.stderr, /no WebGPU adapter matches VDS_WEBGPU_ADAPTER=no-such-gpu/);
  });

  it('without any Vulkan driver, webgpu is skipped with the reason in one line', () => {
    const r = vds(['doctor'], { VK_ICD_FILENAMES: '/nonexistent/icd.json' });
    assert.equal(r.code, 0, r.stderr);
    const line = r.stdout.split('\n').find((l) => /^\s+webgpu\s+skipped/.test(l));
    assert.ok(line, r.stdout);
    assert.match(line!, /no WebGPU adapter: VK_ICD_FILENAMES.*does not exist/);
  });
});

// Issue 29 item 1: probing for a WebGPU adapter is silent. With Mesa's Vulkan drivers installed (here
// lavapipe, which Dawn declines), v0.3.0 printed the drivers' "error: XDG_RUNTIME_DIR is invalid…" and Dawn's
// "Warning: … at InitializeImpl (…PhysicalDeviceVk.cpp:257)" twice on every command's stderr. The probe now
// runs in a child process: stderr stays clean, and --verbose / `vds doctor` say what the drivers said, in
// one line of vds's own words.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { vds, REPO } from './helpers/cli.ts';
import { tempDir } from './helpers/tiny-run.ts';
import { summariseDriverOutput } from '../src/tf/webgpu-probe.ts';
import { SWIFTSHADER_ICD } from '../src/tf/webgpu.ts';

const LAVAPIPE = '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json';
const skip = existsSync(LAVAPIPE) ? false : `needs Mesa's lavapipe (${LAVAPIPE}; Debian: apt-get install mesa-vulkan-drivers libvulkan1)`;
// the environment of the report: Mesa's drivers, no XDG_RUNTIME_DIR (a container, a CI job, ssh without a session)
const env = (): Record<string, string | undefined> => ({ VK_ICD_FILENAMES: LAVAPIPE, XDG_RUNTIME_DIR: undefined });
const NOISE = /XDG_RUNTIME_DIR|Warning:|InitializeImpl|PhysicalDeviceVk/;
// the drivers' own lines (vds's summary names XDG_RUNTIME_DIR too, in a sentence of its own)
const RAW = /^error: XDG_RUNTIME_DIR|^Warning:|InitializeImpl|PhysicalDeviceVk/m;

describe('the drivers\' messages while probing', () => {
  it('become one line in vds\'s words', () => {
    const stderr = [
      'error: XDG_RUNTIME_DIR is invalid or not set in the environment.',
      'error: XDG_RUNTIME_DIR is invalid or not set in the environment.',
      'Warning: Vulkan shaderUniform*ArrayDynamicIndexing required.',
      ' - While initializing adapter (backend=BackendType::Vulkan)',
      '    at InitializeImpl (/home/runner/work/node-webgpu/node-webgpu/third_party/dawn/src/dawn/native/vulkan/PhysicalDeviceVk.cpp:257)',
      '',
      'a message vds does not know.',
    ].join('\n');
    assert.equal(
      summariseDriverOutput(stderr),
      "a Vulkan driver found no XDG_RUNTIME_DIR (harmless: vds opens no windows); Dawn declined a Vulkan device that lacks dynamic indexing of shader arrays (Mesa's lavapipe does); a message vds does not know",
    );
    assert.equal(summariseDriverOutput(''), '');
  });
});

describe('with Mesa\'s Vulkan drivers installed', { skip }, () => {
  const dir = tempDir('noise');
  const train = (extra: string[]) =>
    vds(['train', '--config', path.join(REPO, 'configs/spirals.yaml'), '--set', 'train.epochs=1', '--set', 'model.width=8', '--set', `resultsDir=${dir}`, ...extra], env());

  it('vds train prints nothing of the probe on stderr, and its findings with --verbose', () => {
    const quiet = train([]);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.doesNotMatch(quiet.stderr, NOISE);
    assert.doesNotMatch(quiet.stderr, /webgpu/);
    const verbose = train(['--verbose']);
    assert.equal(verbose.code, 0, verbose.stderr);
    assert.doesNotMatch(verbose.stderr, RAW);
    assert.match(verbose.stderr, /^backend: webgpu skipped: no WebGPU adapter: .*lvp_icd.* \(while probed, the driver said: a Vulkan driver found no XDG_RUNTIME_DIR \(harmless[^\n]*Dawn declined a Vulkan device[^\n]*\)$/m);
  });

  it('vds doctor summarises the drivers in one line and keeps stderr clean', () => {
    const r = vds(['doctor'], env());
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const lines = r.stdout.split('\n').filter((l) => l.includes('XDG_RUNTIME_DIR'));
    assert.equal(lines.length, 1, r.stdout);
    assert.match(lines[0], /^ {2}webgpu driver: .*; while probed it said: a Vulkan driver found no XDG_RUNTIME_DIR/);
  });
});

describe('a software adapter vds then uses (SwiftShader, --backend webgpu)', { skip: existsSync(SWIFTSHADER_ICD) ? false : `needs ${SWIFTSHADER_ICD} (Debian's chromium)` }, () => {
  it('starts Dawn in this process without the driver\'s XDG_RUNTIME_DIR complaint', () => {
    const r = vds(['doctor', '--backend', 'webgpu'], { ...env(), VK_ICD_FILENAMES: SWIFTSHADER_ICD });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /selected: webgpu/);
    assert.equal(r.stderr, '');
  });
});

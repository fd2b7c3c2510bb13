// The IDX reader on the official MNIST test set (byte-identical to the published files) and on
// corrupted copies made here: each bad file must give a VdsError naming the file and the problem.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { readIdx, readIdxPair } from '../src/data/idx.ts';
import { hashFile } from '../src/data/checksum.ts';
import { VdsError } from '../src/util/errors.ts';

const FIX = path.join(import.meta.dirname, 'fixtures', 'mnist');
const IMAGES = path.join(FIX, 't10k-images-idx3-ubyte.gz');
const LABELS = path.join(FIX, 't10k-labels-idx1-ubyte.gz');
const TRAIN_LABELS = path.join(FIX, 'train-labels-idx1-ubyte.gz');
const tmp = mkdtempSync(path.join(tmpdir(), 'vds-idx-'));
const put = (name: string, bytes: Uint8Array): string => {
  const f = path.join(tmp, name);
  writeFileSync(f, bytes);
  return f;
};
const histogram = (y: Uint8Array): number[] => {
  const h = new Array(10).fill(0);
  for (const v of y) h[v]++;
  return h;
};

async function rejects(p: Promise<unknown>, file: string, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof VdsError, `expected VdsError, got ${e}`);
    assert.equal(e.file, file);
    assert.match(e.message, pattern);
    assert.ok(e.hint, 'a hint says how to fix it');
    return true;
  });
}

test('fixtures are the published MNIST files (md5)', async () => {
  assert.equal((await hashFile(IMAGES)).md5, '9fb629c4189551a2d022fa330f9573f3');
  assert.equal((await hashFile(LABELS)).md5, 'ec29112dd5afa0611ce80d1b7f02629c');
  assert.equal((await hashFile(TRAIN_LABELS)).md5, 'd53e105ee54ea40749a09fcbcd1e9432');
});

test('reads the official MNIST test set: 10k images 28×28, known labels and class counts', async () => {
  const s = await readIdxPair(IMAGES, LABELS, 10);
  assert.equal(s.n, 10000);
  assert.deepEqual(s.shape, [28, 28, 1]);
  assert.equal(s.x.length, 10000 * 784);
  assert.deepEqual(Array.from(s.y.subarray(0, 10)), [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
  assert.deepEqual(histogram(s.y), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  // The first test digit (a 7): background corners are 0, and it has ink.
  const first = s.x.subarray(0, 784);
  assert.equal(first[0], 0);
  assert.ok(first.reduce((a, v) => a + (v > 128 ? 1 : 0), 0) > 50);
  const train = await readIdx(TRAIN_LABELS);
  assert.deepEqual(train.dims, [60000]);
  assert.deepEqual(histogram(train.data), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
});

test('raw (not gzipped) IDX gives the same arrays', async () => {
  const raw = put('raw-images-idx3-ubyte', gunzipSync(readFileSync(IMAGES)));
  const a = await readIdx(raw);
  const b = await readIdx(IMAGES);
  assert.deepEqual(a.dims, b.dims);
  assert.ok(Buffer.from(a.data).equals(Buffer.from(b.data)));
});

test('bad files: truncated gzip, wrong magic, size disagreement, count mismatch, label range, HTML', async () => {
  const gz = readFileSync(IMAGES);
  const raw = gunzipSync(gz);
  const truncated = put('trunc-images-idx3-ubyte.gz', gz.subarray(0, gz.length >> 1));
  await rejects(readIdx(truncated), truncated, /truncated gzip|corrupt/);

  const magic = Buffer.from(raw);
  magic[0] = 0x12;
  const badMagic = put('magic-images-idx3-ubyte', magic);
  await rejects(readIdx(badMagic), badMagic, /wrong IDX magic/);

  const short = put('short-images-idx3-ubyte.gz', gzipSync(raw.subarray(0, raw.length - 784)));
  await rejects(readIdx(short), short, /header says dims \[10000, 28, 28\].*but the data is/);

  await rejects(readIdxPair(IMAGES, TRAIN_LABELS, 10), TRAIN_LABELS, /60000 labels but .* has 10000 images/);

  const labels = gunzipSync(readFileSync(LABELS));
  labels[8 + 123] = 10;
  const badLabel = put('range-labels-idx1-ubyte.gz', gzipSync(labels));
  await rejects(readIdxPair(IMAGES, badLabel, 10), badLabel, /label 10 at index 123 is outside the classes 0\.\.9/);

  const page = Buffer.from('<!DOCTYPE html><html><body>403 Forbidden</body></html>');
  const html = put('html-images-idx3-ubyte.gz', page);
  await rejects(readIdx(html), html, /HTML/);
  const htmlRaw = put('html-images-idx3-ubyte', page);
  await rejects(readIdx(htmlRaw), htmlRaw, /HTML/);

  const missing = path.join(tmp, 'nope.gz');
  await rejects(readIdx(missing), missing, /cannot read/);
});

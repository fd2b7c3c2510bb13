// The .mat reader on the SVHN-layout fixtures written by scipy (compressed and not), on files written
// here by a minimal MATLAB v5 writer (other stored types, byte orders, variable order) and on corrupted
// copies. Every bad file must give a VdsError naming the file and the problem.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { readSvhnMat } from '../src/data/mat.ts';
import { VdsError } from '../src/util/errors.ts';

const FIX = path.join(import.meta.dirname, 'fixtures', 'svhn');
const expected = JSON.parse(readFileSync(path.join(FIX, 'tiny_32x32.expected.json'), 'utf8')) as {
  n: number;
  labels: number[];
  nhwc_sha256: string;
  samples: { image: number; row: number; col: number; channel: number; value: number }[];
};
const tmp = mkdtempSync(path.join(tmpdir(), 'vds-mat-'));
const put = (name: string, bytes: Uint8Array): string => {
  const f = path.join(tmp, name);
  writeFileSync(f, bytes);
  return f;
};

// --- a minimal MATLAB v5 writer: header, tagged elements padded to 8 bytes, optional zlib compression ---
const MI = { INT8: 1, UINT8: 2, INT32: 5, UINT32: 6, DOUBLE: 9, MATRIX: 14, COMPRESSED: 15 };
const CLS = { double: 6, uint8: 9 };

function element(type: number, data: Buffer, le: boolean, pad = true): Buffer {
  const tag = Buffer.alloc(8);
  if (le) (tag.writeUInt32LE(type, 0), tag.writeUInt32LE(data.length, 4));
  else (tag.writeUInt32BE(type, 0), tag.writeUInt32BE(data.length, 4));
  return Buffer.concat([tag, data, Buffer.alloc(pad ? (8 - (data.length % 8)) % 8 : 0)]);
}
function u32s(values: number[], le: boolean, signed = false): Buffer {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => (signed ? (le ? b.writeInt32LE(v, 4 * i) : b.writeInt32BE(v, 4 * i)) : le ? b.writeUInt32LE(v, 4 * i) : b.writeUInt32BE(v, 4 * i)));
  return b;
}
interface Var {
  name: string;
  cls: number;
  dims: number[];
  type: number; // stored element type
  data: Buffer;
}
function matrix(v: Var, le: boolean): Buffer {
  const body = Buffer.concat([
    element(MI.UINT32, u32s([v.cls, 0], le), le),
    element(MI.INT32, u32s(v.dims, le, true), le),
    element(MI.INT8, Buffer.from(v.name, 'latin1'), le),
    element(v.type, v.data, le),
  ]);
  return element(MI.MATRIX, body, le);
}
function writeMat(vars: Var[], o: { le?: boolean; compress?: boolean } = {}): Buffer {
  const le = o.le ?? true;
  const header = Buffer.alloc(128, 0x20);
  header.write('MATLAB 5.0 MAT-file, written by the vds tests', 0, 'latin1');
  header.fill(0, 116, 124);
  if (le) (header.writeUInt16LE(0x0100, 124), header.write('IM', 126, 'latin1'));
  else (header.writeUInt16BE(0x0100, 124), header.write('MI', 126, 'latin1'));
  const parts = vars.map((v) => (o.compress ? element(MI.COMPRESSED, deflateSync(matrix(v, le)), le, false) : matrix(v, le)));
  return Buffer.concat([header, ...parts]);
}
function doubles(values: number[], le: boolean): Buffer {
  const b = Buffer.alloc(8 * values.length);
  values.forEach((v, i) => (le ? b.writeDoubleLE(v, 8 * i) : b.writeDoubleBE(v, 8 * i)));
  return b;
}
/** N random-ish images with a known NHWC pixel at (n, r, c, ch) = (n*7 + r*3 + c*5 + ch*11) % 256. */
function svhnVars(n: number, labels: number[], le = true): { X: Var; y: Var; nhwc: Uint8Array } {
  const colMajor = Buffer.alloc(32 * 32 * 3 * n);
  const nhwc = new Uint8Array(colMajor.length);
  for (let i = 0; i < n; i++) for (let ch = 0; ch < 3; ch++) for (let c = 0; c < 32; c++) for (let r = 0; r < 32; r++) {
    const v = (i * 7 + r * 3 + c * 5 + ch * 11) % 256;
    colMajor[r + 32 * (c + 32 * (ch + 3 * i))] = v;
    nhwc[((i * 32 + r) * 32 + c) * 3 + ch] = v;
  }
  return {
    X: { name: 'X', cls: CLS.uint8, dims: [32, 32, 3, n], type: MI.UINT8, data: colMajor },
    y: { name: 'y', cls: CLS.double, dims: [n, 1], type: MI.DOUBLE, data: doubles(labels, le) },
    nhwc,
  };
}

async function rejects(p: Promise<unknown>, file: string, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof VdsError, `expected VdsError, got ${e}`);
    assert.equal(e.file, file);
    assert.match(e.message, pattern);
    assert.ok(e.hint);
    return true;
  });
}

for (const kind of ['compressed', 'uncompressed']) {
  test(`scipy-written SVHN layout (${kind}): labels 10→0, NHWC pixels and sha256 as expected`, async () => {
    const m = await readSvhnMat(path.join(FIX, `tiny_32x32_${kind}.mat`));
    assert.equal(m.n, expected.n);
    assert.deepEqual(m.shape, [32, 32, 3]);
    assert.deepEqual(Array.from(m.y), expected.labels);
    for (const s of expected.samples) assert.equal(m.x[((s.image * 32 + s.row) * 32 + s.col) * 3 + s.channel], s.value, JSON.stringify(s));
    assert.equal(createHash('sha256').update(m.x).digest('hex'), expected.nhwc_sha256);
  });
}

test('decodes by stored type and byte order: y double stored as uint8, big-endian, y before X, extra variables', async () => {
  const labels = [10, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  for (const le of [true, false]) {
    for (const compress of [false, true]) {
      const { X, y, nhwc } = svhnVars(10, labels, le);
      const yAsBytes: Var = { ...y, type: MI.UINT8, data: Buffer.from(labels) };
      const other: Var = { name: 'meta', cls: CLS.double, dims: [1, 3], type: MI.DOUBLE, data: doubles([1, 2, 3], le) };
      const f = put(`typed-${le}-${compress}.mat`, writeMat([yAsBytes, other, X], { le, compress }));
      const m = await readSvhnMat(f);
      assert.deepEqual(Array.from(m.y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      assert.ok(Buffer.from(m.x).equals(Buffer.from(nhwc)), `pixels le=${le} compress=${compress}`);
    }
  }
});

test('bad .mat files: missing X or y, wrong class or dims, count mismatch, labels out of range', async () => {
  const { X, y } = svhnVars(4, [1, 2, 3, 10]);
  const cases: [string, Var[], RegExp][] = [
    ['no-x', [y], /no variable X/],
    ['no-y', [X], /no variable y/],
    ['x-double', [{ ...X, cls: CLS.double, type: MI.DOUBLE, data: doubles(Array.from(X.data), true) }, y], /X is class double, expected uint8/],
    ['x-3d', [{ ...X, dims: [32, 32, 12] }, y], /X has dims \[32, 32, 12\], expected 4/],
    ['x-size', [{ ...X, dims: [32, 32, 3, 5] }, y], /payload is 12288 bytes, dims \[32, 32, 3, 5\] need 15360/],
    ['y-count', [X, { ...y, dims: [3, 1], data: doubles([1, 2, 3], true) }], /3 labels but X has 4 images/],
    ['y-range', [X, { ...y, data: doubles([1, 2, 11, 3], true) }], /label 11 at index 2 is outside 1\.\.10/],
    ['y-zero', [X, { ...y, data: doubles([1, 0, 2, 3], true) }], /label 0 at index 1/],
    ['y-fraction', [X, { ...y, data: doubles([1, 2.5, 2, 3], true) }], /label 2\.5/],
  ];
  for (const [name, vars, pattern] of cases) {
    for (const compress of [false, true]) {
      const f = put(`${name}-${compress}.mat`, writeMat(vars, { compress }));
      await rejects(readSvhnMat(f), f, pattern);
    }
  }
});

test('damaged files: truncated (compressed and not), corrupt deflate stream, HTML page, not a .mat', async () => {
  for (const kind of ['compressed', 'uncompressed']) {
    const bytes = readFileSync(path.join(FIX, `tiny_32x32_${kind}.mat`));
    const f = put(`trunc-${kind}.mat`, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    await rejects(readSvhnMat(f), f, /truncated|unexpected end|corrupt/);
  }
  const comp = Buffer.from(readFileSync(path.join(FIX, 'tiny_32x32_compressed.mat')));
  for (let i = 400; i < 600; i++) comp[i] ^= 0x5a;
  const corrupt = put('corrupt.mat', comp);
  await rejects(readSvhnMat(corrupt), corrupt, /corrupt compressed variable|truncated/);
  const html = put('page.mat', Buffer.from('<html><head><title>404 Not Found</title></head></html>'));
  await rejects(readSvhnMat(html), html, /HTML/);
  const junk = put('junk.mat', Buffer.alloc(300, 7));
  await rejects(readSvhnMat(junk), junk, /not a MATLAB \.mat file/);
  const missing = path.join(tmp, 'absent.mat');
  await rejects(readSvhnMat(missing), missing, /cannot read/);
});

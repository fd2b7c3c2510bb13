// The paper's comparison end to end, small: a sweep of learnt- and fixed-depth spirals networks (2 depths ×
// 2 methods × 2 seeds) in separate processes, then prune and report; and a sweep killed with SIGKILL that,
// restarted, finishes without redoing what was finished.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFileSync, statSync, existsSync } from 'node:fs';
import { parse as parseCsv } from 'csv-parse/sync';
import { vds, vdsAsync } from './helpers/cli.ts';
import { tempDir } from './helpers/tiny-run.ts';
import { writeSpiralsSweep } from './helpers/spirals-sweep.ts';

/** 2 methods × depths 1, 3 × seeds 0, 1: eight tiny spirals runs of `epochs` epochs. */
const sweepFile = (dir: string, name: string, epochs: number): string => writeSpiralsSweep(dir, name, name, { epochs, depths: [1, 3], seeds: [0, 1] });

const manifest = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'sweep.json'), 'utf8'));

describe('vds sweep → prune → report', () => {
  it('runs the grid, prunes a learnt run against its fixed-depth twin, and reports', () => {
    const root = tempDir('sweep');
    const file = sweepFile(root, 'small', 60);
    const dry = vds(['sweep', '--config', file, '--results-dir', root, '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^8 runs/);
    assert.equal(dry.stdout.match(/^fresh /gm)?.length, 8);

    const run = vds(['sweep', '--config', file, '--results-dir', root, '--jobs', '2']);
    assert.equal(run.code, 0, run.stderr);
    const sweepDir = path.join(root, 'small');
    const m = manifest(sweepDir);
    assert.equal(m.runs.length, 8);
    assert.ok(m.runs.every((r: { state: string }) => r.state === 'finished'), JSON.stringify(m.runs.map((r: { state: string }) => r.state)));

    const learnt = m.runs.find((r: { method: string; maxDepth: number; seed: number }) => r.method === 'learnt' && r.maxDepth === 3 && r.seed === 0);
    const pruned = vds(['prune', learnt.dir]);
    assert.equal(pruned.code, 0, pruned.stderr);
    const p = JSON.parse(readFileSync(path.join(learnt.dir, 'prune.json'), 'utf8'));
    assert.ok(p.depth >= 0 && p.depth <= 3);
    assert.ok(p.speedupVsFixed !== null && p.speedupVsFixed > 0, 'found the fixed-depth network of depth 3');
    assert.ok(existsSync(path.join(learnt.dir, 'checkpoints', 'pruned.ckpt')));

    const out = path.join(root, 'report');
    const rep = vds(['report', sweepDir, '--out', out]);
    assert.equal(rep.code, 0, rep.stderr);
    const summary = parseCsv(readFileSync(path.join(out, 'summary.csv')), { columns: true }) as Record<string, string>[];
    const keys = summary.map((r) => `${r.method}:${r.max_depth}`).sort();
    assert.deepEqual(keys, ['fixed:1', 'fixed:3', 'learnt:1', 'learnt:3']);
    assert.ok(existsSync(path.join(out, 'summary.md')));
    assert.ok(existsSync(path.join(out, 'headline.csv')));
  });

  it('a sweep killed with SIGKILL continues without redoing finished runs', async () => {
    const root = tempDir('sweep-kill');
    const file = sweepFile(root, 'killed', 500); // long enough that a run is under way at the kill
    const sweepDir = path.join(root, 'killed');
    const first = vdsAsync(['sweep', '--config', file, '--results-dir', root, '--jobs', '1']);
    // wait until at least one run has finished and another is under way
    for (let i = 0; i < 600; i++) {
      await new Promise((r) => setTimeout(r, 250));
      if (!existsSync(path.join(sweepDir, 'sweep.json'))) continue;
      const runs = manifest(sweepDir).runs as { state: string }[];
      if (runs.filter((r) => r.state === 'finished').length >= 1 && runs.some((r) => r.state === 'running')) break;
    }
    first.child.kill('SIGKILL');
    await first.done;
    const before = manifest(sweepDir).runs as { id: string; dir: string; state: string }[];
    const finished = before.filter((r) => r.state === 'finished');
    assert.ok(finished.length >= 1 && finished.length < 8, `finished before the kill: ${finished.length}`);
    const mtimes = new Map(finished.map((r) => [r.id, statSync(path.join(r.dir, 'eval.json')).mtimeMs]));

    const again = vds(['sweep', '--config', file, '--results-dir', root, '--jobs', '2']);
    assert.equal(again.code, 0, again.stderr);
    const after = manifest(sweepDir).runs as { id: string; dir: string; state: string; attempts: number }[];
    assert.ok(after.every((r) => r.state === 'finished'));
    for (const [id, mtime] of mtimes) {
      assert.equal(statSync(path.join(after.find((r) => r.id === id)!.dir, 'eval.json')).mtimeMs, mtime, `${id} was not redone`);
      assert.equal(after.find((r) => r.id === id)!.attempts, 1);
    }
    assert.match(again.stderr, new RegExp(`${mtimes.size} already finished`));
  });
});

// `vds board` in a real browser (Chromium through playwright-core): a results directory made by real short
// runs (a spirals sweep), plus a run written by an older vds (no precise/running columns) and one whose
// metrics.csv is malformed. The page lists every run with its state; a run's charts plot exactly the numbers
// of its metrics.csv (read from the chart's data, not its pixels); the sweep's depth curves are the report's;
// a training run's new epochs appear without a reload; a broken run is an error on its own; the server
// refuses paths out of the results directory and says when its port is taken. Screenshots of each view go to
// test-artifacts/board/.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { VDS_BIN, vds, vdsAsync } from './helpers/cli.ts';
import { tempDir } from './helpers/tiny-run.ts';
import { writeSpiralsSweep } from './helpers/spirals-sweep.ts';
import { waitFor } from './helpers/wait.ts';
import { artifactDir, launchBrowser, skipWithoutBrowser } from './helpers/browser.ts';

const root = tempDir('board');
const results = path.join(root, 'results');
const sweepDir = path.join(results, 'grid');
const shots = artifactDir('board');

/** metrics.csv as (epoch, value) pairs of one column, the way a person would read the file. */
function csvColumn(dir: string, name: string): [number, number][] {
  const [head, ...rows] = readFileSync(path.join(dir, 'metrics.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
  const i = head.indexOf(name);
  assert.ok(i >= 0, `${name} in metrics.csv`);
  return rows.filter((r) => r[i] !== '').map((r) => [Number(r[0]), Number(r[i])]);
}

/** A raw GET: the path goes to the server exactly as written (fetch would resolve `..` first). */
function rawGet(port: number, p: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: p }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

function startBoard(dir: string, port = 0): Promise<{ child: ChildProcess; url: string; port: number }> {
  const child = spawn(process.execPath, [VDS_BIN, 'board', dir, '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /^(http:\/\/127\.0\.0\.1:(\d+)\/)$/m.exec(out);
      if (m) resolve({ child, url: m[1], port: Number(m[2]) });
    });
    child.on('exit', (code) => reject(new Error(`vds board exited with ${code}: ${err}`)));
  });
}

describe('vds board', { skip: skipWithoutBrowser }, () => {
  let board: { child: ChildProcess; url: string; port: number };
  let browser: Browser;
  let page: Page;
  let runs: { id: string; dir: string; method: string; maxDepth: number; seed: number }[];
  const learnt = () => runs.find((r) => r.id.includes('learnt-D2'))!;

  before(async () => {
    const file = writeSpiralsSweep(root, 'grid', 'grid', { epochs: 40, depths: [1, 2] });
    const r = vds(['sweep', '--config', file, '--results-dir', results, '--jobs', '2']);
    assert.equal(r.code, 0, r.stderr);
    runs = JSON.parse(readFileSync(path.join(sweepDir, 'sweep.json'), 'utf8')).runs;
    // a run as an older vds wrote it: no precise/running validation columns, no calibration time
    const old = path.join(results, 'older', 'run-from-0.1');
    cpSync(learnt().dir, old, { recursive: true });
    const lines = readFileSync(path.join(old, 'metrics.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
    const drop = new Set(lines[0].flatMap((c, i) => (/_(precise|running)$|^calibration_seconds$/.test(c) ? [i] : [])));
    writeFileSync(path.join(old, 'metrics.csv'), lines.map((l) => l.filter((_, i) => !drop.has(i)).join(',')).join('\n') + '\n');
    // a run whose metrics.csv has a mangled line in the middle
    const broken = path.join(results, 'older', 'run-broken');
    cpSync(runs[0].dir, broken, { recursive: true });
    const text = readFileSync(path.join(broken, 'metrics.csv'), 'utf8').split('\n');
    text[3] = 'this,line,is,not,a,row';
    writeFileSync(path.join(broken, 'metrics.csv'), text.join('\n'));
    // a link out of the results directory, which the server must not follow
    symlinkSync('/etc', path.join(results, 'outside'));
    board = await startBoard(results);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
    page.on('pageerror', (e) => assert.fail(`error on the page: ${e.message}`));
  });

  after(async () => {
    await browser?.close();
    board?.child.kill('SIGTERM');
  });

  const ready = async (hash: string) => {
    await page.goto('about:blank'); // a new document each time (a change of hash alone would not load one)
    await page.goto(`${board.url}${hash}`);
    await page.waitForFunction(() => (window as unknown as { vdsBoard?: { ready?: boolean } }).vdsBoard?.ready === true);
  };
  /** A chart's series as the page drew it: [name, [x, y][]] per series. */
  const chartData = (name: string) =>
    page.evaluate((n) => {
      const inst = (window as unknown as { vdsBoard: { charts: Record<string, { getOption(): { series: { name: string; type: string; data: unknown[] }[] } }> } }).vdsBoard.charts[n];
      return inst ? inst.getOption().series.filter((s) => s.type !== 'custom').map((s) => [s.name, s.data] as [string, unknown[]]) : null;
    }, name);

  it('lists every run with its state, the sweep with its progress', async () => {
    await ready('');
    const rows = await page.$$eval('#sidebar .run', (els) => els.map((e) => [e.getAttribute('data-run'), e.getAttribute('data-state')]));
    const ids = rows.map(([id]) => id);
    for (const r of runs) assert.ok(ids.includes(path.relative(results, r.dir)), `${r.id} listed`);
    assert.ok(ids.includes('older/run-from-0.1') && ids.includes('older/run-broken'));
    for (const [id, state] of rows) {
      const st = JSON.parse(readFileSync(path.join(results, id!, 'status.json'), 'utf8')).state;
      assert.equal(state, st, `${id}: the state status.json gives`);
    }
    assert.match(await page.textContent('[data-sweep="grid"] .group-head') ?? '', /local sweep · 4\/4 finished/);
    // each run named by the settings that set it apart, then its hash (issue 29: the cut ids looked alike)
    for (const r of runs) {
      const name = await page.textContent(`[data-run="${path.relative(results, r.dir)}"] .name`);
      assert.equal(name, `${r.method} D=${r.maxDepth} seed ${r.seed} · ${/-([0-9a-f]{8,})$/.exec(r.id)![1].slice(0, 6)}`);
    }
    await page.screenshot({ path: path.join(shots, 'sweep.png') });
    // however many rows a legend wraps into, the plot keeps its height, so the y-axis title (centred on the
    // plot, as long as "test log-likelihood (nats per example)") stays clear of the legend above it
    const plots = await page.evaluate(() =>
      Object.entries((window as unknown as { vdsBoard: { charts: Record<string, { getDom(): HTMLElement; getOption(): { grid: { top: number; bottom: number }[] } }> } }).vdsBoard.charts).map(([name, inst]) => {
        const { top, bottom } = inst.getOption().grid[0];
        return [name, inst.getDom().clientHeight - top - bottom] as const;
      }),
    );
    assert.ok(plots.length >= 2, 'the sweep view draws its charts');
    for (const [name, h] of plots) assert.ok(h >= 240, `${name}: a plot ${h} px high under its legend`);
  });

  it("a run's charts plot exactly its metrics.csv: both statistics, E_q[d], q(d) over the epochs, its reliability", async () => {
    const r = learnt();
    await ready(`#run=${encodeURIComponent(path.relative(results, r.dir))}`);
    const ll = (await chartData('loglik'))!;
    assert.deepEqual(ll.map(([n]) => n), ['validation log-likelihood, precise BN statistics', 'validation log-likelihood, running BN statistics (reference)']);
    assert.deepEqual(ll[0][1], csvColumn(r.dir, 'val_ll_precise'));
    assert.deepEqual(ll[1][1], csvColumn(r.dir, 'val_ll_running'));
    const acc = (await chartData('accuracy'))!;
    assert.deepEqual(acc[0][1], csvColumn(r.dir, 'val_acc_precise'));
    const depth = (await chartData('depth'))!;
    assert.deepEqual(depth[0][1], csvColumn(r.dir, 'expected_depth'));
    const heat = (await chartData('posterior'))!;
    assert.equal(heat[0][1].length, 40 * 3, 'one cell per epoch and depth 0..2');
    const q1 = csvColumn(r.dir, 'q_1');
    const cells = heat[0][1] as [number, number, number][];
    assert.deepEqual(cells.filter((c) => c[1] === 1).map((c) => c[2]), q1.map(([, v]) => v));
    assert.ok(await chartData('reliability'), 'a finished run has its reliability diagram');
    assert.match(await page.textContent('[data-field="state"]') ?? '', /finished/);
    await page.screenshot({ path: path.join(shots, 'run.png') });
  });

  it('a run written by an older vds (no precise/running columns) shows the columns it has', async () => {
    await ready(`#run=${encodeURIComponent('older/run-from-0.1')}`);
    const ll = (await chartData('loglik'))!;
    assert.deepEqual(ll.map(([n]) => n), ['validation log-likelihood']);
    assert.deepEqual(ll[0][1], csvColumn(path.join(results, 'older', 'run-from-0.1'), 'val_ll'));
    assert.equal(await page.$('[data-field="error"]'), null);
  });

  it('a malformed metrics.csv is that run\'s error; the other runs still render', async () => {
    await ready(`#run=${encodeURIComponent('older/run-broken')}`);
    assert.match(await page.textContent('[data-field="error"]') ?? '', /metrics\.csv line 4: 6 fields, the header has \d+/);
    assert.match(await page.getAttribute('[data-run="older/run-broken"]', 'title') ?? '', /error: metrics\.csv line 4/);
    await page.screenshot({ path: path.join(shots, 'broken-run.png') });
    const other = path.relative(results, learnt().dir);
    await page.click(`[data-run="${other}"]`);
    await page.waitForFunction((id) => document.querySelector('#main h1')?.textContent === id, other);
    assert.equal(await page.$('[data-field="error"]'), null);
    assert.ok(await chartData('posterior'));
  });

  it("the sweep's depth curves are the report's numbers (vds report's summary.csv)", async () => {
    await ready('#sweep=grid');
    const rep = vds(['report', sweepDir, '--out', path.join(root, 'report'), '--format', 'svg']);
    assert.equal(rep.code, 0, rep.stderr);
    const [head, ...rows] = readFileSync(path.join(root, 'report', 'summary.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
    const col = (n: string) => head.indexOf(n);
    const fixed = rows.filter((r) => r[col('method')] === 'fixed').map((r) => [Number(r[col('max_depth')]), Number(r[col('test_log_likelihood_mean')])]);
    const curve = (await chartData('depth-loglik-spirals'))!;
    const points = (curve[0][1] as [number, number][]).map(([x, y]) => [x, Number(y.toFixed(4))]);
    assert.deepEqual(points, fixed.map(([d, y]) => [d, Number(y.toFixed(4))]));
    assert.ok(await page.$('[data-table="headline"]'));
    await page.screenshot({ path: path.join(shots, 'sweep-curves.png') });
  });

  it('a run that trains shows its new epochs without a reload', async () => {
    const cfg = path.join(root, 'live.yaml');
    writeFileSync(cfg, 'experiment: live\ndata: { name: spirals }\nmodel: { kind: fc, width: 8, maxDepth: 2 }\ntrain: { batchSize: 0, epochs: 100000, patience: 100000 }\n');
    const run = vdsAsync(['train', '-c', cfg, '--run-id', 'growing', '--results-dir', results, '--backend', 'wasm', '--threads', '1', '--progress', 'none']);
    try {
      await ready('');
      // found by the tree's next walk (every 5 s), then selected in the list like a person would
      const row = '[data-run="live/growing"]';
      await page.waitForSelector(row, { timeout: 30_000 });
      await page.click(row);
      await page.waitForFunction(() => document.querySelector('#main h1')?.textContent === 'live/growing' && Boolean((window as unknown as { vdsBoard: { charts: Record<string, unknown> } }).vdsBoard.charts.loss));
      await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
      const n0 = ((await chartData('loss'))![0][1] as unknown[]).length;
      const grown = await waitFor('new epochs on the page', async () => {
        const n = ((await chartData('loss'))![0][1] as unknown[]).length;
        return n >= n0 + 3 ? n : null;
      }, { seconds: 60 });
      assert.ok(grown > n0);
      assert.equal(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument), true, 'no reload');
      assert.match(await page.textContent(`${row} .meta`) ?? '', /^epoch \d+ of 100000$/);
      await page.screenshot({ path: path.join(shots, 'live-run.png') });
    } finally {
      run.child.kill('SIGINT');
      await run.done;
    }
  });

  it('compares runs: several runs overlaid on one chart', async () => {
    await ready('');
    const picks = runs.filter((r) => r.id.includes('learnt'));
    for (const r of picks) await page.check(`[data-run="${path.relative(results, r.dir)}"] input`);
    const overlay = await waitFor('every picked run on the chart', async () => {
      const d = await chartData('compare');
      return d && d.length === picks.length ? d : null;
    }, { seconds: 20 });
    assert.equal(overlay.length, picks.length);
    for (const r of picks) {
      const s = overlay.find(([n]) => r.dir.endsWith(n));
      assert.ok(s, `${r.id} on the chart`);
      assert.deepEqual(s![1], csvColumn(r.dir, 'val_ll_precise'));
    }
    await page.screenshot({ path: path.join(shots, 'compare.png') });
  });

  it('serves nothing outside the results directory: .., encoded .., a link out', async () => {
    const run = path.relative(results, runs[0].dir);
    const ok = await rawGet(board.port, `/files/${run}/metrics.csv`);
    assert.equal(ok.status, 200);
    assert.equal(ok.body, readFileSync(path.join(runs[0].dir, 'metrics.csv'), 'utf8'));
    for (const p of ['/files/../../../../etc/passwd', '/files/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/files/..%2f..%2f..%2fetc%2fpasswd', '/files/grid/..%5c..%5c..%5cetc/passwd', '/files/outside/passwd']) {
      const r = await rawGet(board.port, p);
      assert.equal(r.status, 403, `${p}: ${r.status} ${r.body}`);
      assert.doesNotMatch(r.body, /root:/);
    }
    assert.equal((await rawGet(board.port, `/api/run?id=${encodeURIComponent('../../etc')}`)).status, 404);
    assert.equal((await rawGet(board.port, '/files/grid/no-such-file')).status, 404);
    assert.deepEqual(readdirSync(results).sort(), ['grid', 'live', 'older', 'outside'], 'the board wrote nothing into the results directory');
  });

  it('a port in use is a clear error naming it', () => {
    const r = vds(['board', results, '--port', String(board.port)]);
    assert.equal(r.code, 75, r.stderr);
    assert.match(r.stderr, new RegExp(`--port: port ${board.port} is in use on 127\\.0\\.0\\.1`));
  });
});

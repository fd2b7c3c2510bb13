// The plotting module: tick choice and labels, what an SVG holds, and that PNGs carry rendered text using
// only the font shipped in node_modules (system fonts are never loaded).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Resvg } from '@resvg/resvg-js';
import { renderChart } from '../src/report/plot/chart.ts';
import { renderSvg, svgToPng } from '../src/report/plot/png.ts';
import { formatTick, niceTicks } from '../src/report/plot/scale.ts';
import { priorProbs } from '../src/report/aggregate.ts';
import { fmt, stat } from '../src/report/stats.ts';

test('nice ticks: 1-2-2.5-5 steps covering the data', () => {
  assert.deepEqual(niceTicks({ min: 0, max: 10 }, 5).ticks, [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(niceTicks({ min: -0.0505, max: -0.0285 }, 5).ticks, [-0.055, -0.05, -0.045, -0.04, -0.035, -0.03, -0.025]);
  assert.deepEqual(niceTicks({ min: 0, max: 3 }, 8, true).ticks, [0, 1, 2, 3]);
  assert.equal(formatTick(-0.035, 0.005), '−0.035');
  assert.equal(formatTick(2.5, 2.5), '2.5');
  assert.equal(formatTick(-0, 0.1), '0.0');
  assert.equal(formatTick(40, 20), '40');
});

test('stats: sample std over seeds, none for one seed', () => {
  const s = stat([0.991, 0.993, NaN]);
  assert.equal(s.n, 2);
  assert.ok(Math.abs(s.mean - 0.992) < 1e-12);
  assert.ok(Math.abs(s.std! - Math.SQRT2 * 0.001) < 1e-12);
  assert.equal(stat([3]).std, null);
  assert.equal(fmt(stat([3])), '3.0000');
  assert.equal(fmt(stat([])), '—');
});

test('prior: truncated geometric and uniform, normalised', () => {
  const p = priorProbs({ kind: 'geometric', decay: 0.5 }, 2); // 1, .5, .25 over 1.75
  assert.ok(Math.abs(p[0] - 4 / 7) < 1e-12 && Math.abs(p[2] - 1 / 7) < 1e-12);
  assert.deepEqual(priorProbs({ kind: 'uniform', decay: 0.85 }, 3), [0.25, 0.25, 0.25, 0.25]);
});

test('SVG: title, axis titles, legend entries, escaped text', () => {
  const svg = renderChart({
    title: 'LL <vs> depth & more',
    xLabel: 'depth d (blocks)',
    yLabel: 'test log-likelihood (nats)',
    series: [{ label: 'fixed depth', kind: 'line', points: [{ x: 0, y: -0.1, err: 0.01 }, { x: 5, y: -0.05 }] }],
    bands: [{ label: 'learnt band', lo: -0.06, hi: -0.04, mid: -0.05 }],
  });
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(svg, />LL &lt;vs&gt; depth &amp; more</);
  assert.match(svg, />depth d \(blocks\)</);
  assert.match(svg, /rotate\(-90[^"]*"[^>]*>test log-likelihood \(nats\)</);
  assert.match(svg, />fixed depth</);
  assert.match(svg, />learnt band</);
  assert.match(svg, />−0\.06</); // a y tick
  assert.doesNotThrow(() => new Resvg(svg)); // well-formed for the renderer
});

test('PNG: text is drawn with the bundled font (no system fonts)', () => {
  const png = svgToPng(renderChart({ title: 'Posterior over depth', xLabel: 'd', yLabel: 'q(d)', series: [] }), 1);
  assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  // a lone word: without a usable font resvg silently draws nothing, so count dark pixels
  const word = '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40"><rect width="200" height="40" fill="white"/><text x="10" y="28" font-size="20" font-family="DejaVu Sans">Hello</text></svg>';
  const dark = (px: Uint8Array) => {
    let n = 0;
    for (let i = 0; i < px.length; i += 4) if (px[i] < 128) n++;
    return n;
  };
  assert.equal(dark(new Resvg(word, { font: { loadSystemFonts: false } }).render().pixels), 0); // no font: blank
  const ours = dark(renderSvg(word, 1).pixels);
  assert.ok(ours > 100, `only ${ours} dark pixels`);
});

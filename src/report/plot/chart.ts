// One chart renderer for every figure: numeric x and y axes with nice ticks and titles, a legend, and series
// drawn as lines, markers or bars (grouped when several), each optionally with ±error bars; horizontal bands
// (e.g. a learnt network's mean ± std) and a dashed reference line (y = x).
import { extent, formatTick, linear, niceTicks, type Domain } from './scale.ts';
import { el, esc, FONT_FAMILY, PALETTE, path, text, textWidth } from './svg.ts';

export interface Point {
  x: number;
  y: number;
  err?: number; // ± half-height of the error bar
  lo?: number; // or an interval: the error bar runs from lo to hi (e.g. a range that is not symmetric)
  hi?: number;
  flag?: string; // a word or two above the point or bar, e.g. 'spans 1×' (a bar with a flag is drawn faint)
}

/** The ends of a point's error bar, if it has one. */
const barEnds = (p: Point): [number, number] | null =>
  p.lo !== undefined && p.hi !== undefined ? [p.lo, p.hi] : p.err ? [p.y - p.err, p.y + p.err] : null;

export interface Series {
  label: string;
  kind: 'line' | 'scatter' | 'bar';
  points: Point[];
  color?: string;
  dashed?: boolean;
  marker?: 'circle' | 'square' | 'triangle';
}

export interface Band {
  label: string;
  lo: number;
  hi: number;
  mid?: number;
  color?: string;
}

/** A heat map: one cell per (x, y), coloured by `value` on a continuous scale from 0 to `max`, drawn as a
 * labelled colour bar beside the plot (a handful of swatches without ticks could not be read). */
export interface Heat {
  label: string; // what the colour measures, the colour bar's title: e.g. "q(d)"
  cells: { x: number; y: number; w: number; h: number; value: number }[];
  max: number; // the value at the dark end of the scale (0 at the light end)
  colors: readonly string[]; // the scale's stops, light (0) to dark (max): HEAT_COLORS
}

/** A sequential scale, light yellow → green → blue → dark navy: lightness falls steadily (it prints in grey)
 * while the hue turns, so neighbouring values stay apart (ColorBrewer's YlGnBu). */
export const HEAT_COLORS: readonly string[] = ['#ffffd9', '#c7e9b4', '#7fcdbb', '#41b6c4', '#1d91c0', '#225ea8', '#0c2c84'];

/** The colour of t ∈ [0, 1] on a scale: linear between neighbouring stops, in RGB. */
export function scaleColor(colors: readonly string[], t: number): string {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (colors.length - 1);
  const i = Math.min(colors.length - 2, Math.floor(x));
  const f = x - i;
  const rgb = (c: string) => [1, 3, 5].map((k) => parseInt(c.slice(k, k + 2), 16));
  const [a, b] = [rgb(colors[i]), rgb(colors[i + 1])];
  return `#${a.map((v, k) => Math.round(v + (b[k] - v) * f).toString(16).padStart(2, '0')).join('')}`;
}

export interface ChartSpec {
  title: string;
  heat?: Heat;
  xLabel: string; // with units, e.g. "depth d (residual blocks)"
  yLabel: string;
  series: Series[];
  bands?: Band[];
  diagonal?: boolean; // dashed y = x
  xDomain?: Domain;
  yDomain?: Domain;
  yMin?: number; // lower bound of the y axis (e.g. 0 for probabilities), the rest automatic
  xInteger?: boolean;
  xTickLabels?: { x: number; label: string }[]; // categorical axis: these replace numeric ticks
  note?: string; // small line under the plot, e.g. "error bars: ± 1 std over seeds"
  width?: number;
  height?: number;
}

const M = { left: 86, right: 24, top: 46, bottom: 70 };

function legendRows(items: { label: string }[], width: number, size: number): number[][] {
  const rows: number[][] = [[]];
  let used = 0;
  items.forEach((it, i) => {
    const w = 34 + textWidth(it.label, size) + 18;
    if (used + w > width && rows[rows.length - 1].length) {
      rows.push([]);
      used = 0;
    }
    rows[rows.length - 1].push(i);
    used += w;
  });
  return rows;
}

function marker(kind: Series['marker'], x: number, y: number, color: string): string {
  if (kind === 'square') return el('rect', { x: x - 4, y: y - 4, width: 8, height: 8, fill: color });
  if (kind === 'triangle') return el('path', { d: path([[x, y - 5], [x + 5, y + 4], [x - 5, y + 4]]) + 'Z', fill: color });
  return el('circle', { cx: x, cy: y, r: 4, fill: color });
}

/** The heat map's scale: a vertical gradient bar from 0 (bottom) to max (top), with ticks and a title. */
function colorBar(h: Heat, x: number, top: number, height: number): string {
  const stops = h.colors.map((c, i) => el('stop', { offset: `${((100 * i) / (h.colors.length - 1)).toFixed(1)}%`, 'stop-color': c })).join('');
  const V = linear({ min: 0, max: h.max }, top + height, top);
  const t = niceTicks({ min: 0, max: h.max }, 5);
  const ticks = t.ticks.filter((v) => v >= 0 && v <= h.max + 1e-12);
  return [
    el('linearGradient', { id: 'heatscale', x1: 0, y1: 1, x2: 0, y2: 0 }, stops),
    el('rect', { x, y: top, width: 14, height, fill: 'url(#heatscale)', stroke: '#444', 'stroke-width': 0.6, 'data-max': String(Number(h.max.toPrecision(4))) }),
    ...ticks.flatMap((v) => [el('line', { x1: x + 14, x2: x + 18, y1: V(v), y2: V(v), stroke: '#444' }), text(x + 21, V(v), formatTick(v, t.step), { size: 11, baseline: 'middle' })]),
    text(x + 62, top + height / 2, h.label, { size: 13, anchor: 'middle', rotate: -90 }),
  ].join('');
}

/** An error bar from pixel y0 to y1; `ends` (data units) are kept as attributes, so the SVG says what it draws. */
function errorBar(x: number, y0: number, y1: number, color: string, ends: [number, number]): string {
  const v = (n: number) => String(Number(n.toPrecision(4)));
  return el('path', { d: `${path([[x, y0], [x, y1]])}${path([[x - 4, y0], [x + 4, y0]])}${path([[x - 4, y1], [x + 4, y1]])}`, stroke: color, 'stroke-width': 1.4, fill: 'none', 'data-lo': v(ends[0]), 'data-hi': v(ends[1]) });
}

export function renderChart(spec: ChartSpec): string {
  const W = spec.width ?? 760;
  const H0 = spec.height ?? 480;
  const colors = spec.series.map((s, i) => s.color ?? PALETTE[i % PALETTE.length]);
  const bandColors = (spec.bands ?? []).map((b, i) => b.color ?? PALETTE[(spec.series.length + i) % PALETTE.length]);
  const legendItems = [...spec.series.map((s) => ({ label: s.label })), ...(spec.bands ?? []).map((b) => ({ label: b.label }))];
  const rows = legendRows(legendItems, W - M.left - M.right, 13);
  const legendH = legendItems.length ? rows.length * 20 + 8 : 0;
  const top = M.top + legendH;
  const H = H0 + legendH;
  const bottom = M.bottom + (spec.note ? 18 : 0);
  const barRoom = spec.heat ? 84 : 0; // the colour bar, its ticks and its title, right of the plot
  const pw = W - M.left - M.right - barRoom;
  const ph = H - top - bottom;

  // domains
  const bars = spec.series.filter((s) => s.kind === 'bar');
  const xs = spec.series.flatMap((s) => s.points.map((p) => p.x)).concat((spec.xTickLabels ?? []).map((t) => t.x));
  const ys = spec.series.flatMap((s) => s.points.flatMap((p) => [p.y, ...(barEnds(p) ?? [])]));
  for (const c of spec.heat?.cells ?? []) xs.push(c.x, c.x + c.w), ys.push(c.y, c.y + c.h);
  for (const b of spec.bands ?? []) ys.push(b.lo, b.hi);
  if (bars.length) ys.push(0);
  const xsSorted = [...new Set(xs)].sort((a, b) => a - b);
  let gap = Infinity;
  for (let i = 1; i < xsSorted.length; i++) gap = Math.min(gap, xsSorted[i] - xsSorted[i - 1]);
  if (!Number.isFinite(gap)) gap = 1;
  let xd = spec.xDomain ?? extent(xs) ?? { min: 0, max: 1 };
  if (!spec.xDomain && (bars.length || spec.xTickLabels)) xd = { min: xd.min - gap * 0.6, max: xd.max + gap * 0.6 };
  const xt = niceTicks(spec.xDomain ?? xd, 8, spec.xInteger);
  const xBase = spec.xDomain ?? (bars.length || spec.xTickLabels ? xd : xt.domain);
  // a little room at the ends so markers on the first and last tick are not cut by the frame
  const xPad = bars.length || spec.xTickLabels ? 0 : (xBase.max - xBase.min) * 0.025;
  const xDom = { min: xBase.min - xPad, max: xBase.max + xPad };
  let yd = spec.yDomain ?? extent(ys) ?? { min: 0, max: 1 };
  if (!spec.yDomain) {
    const pad = (yd.max - yd.min) * 0.06;
    yd = { min: bars.length && yd.min >= 0 ? 0 : yd.min - pad, max: yd.max + pad };
    if (spec.yMin !== undefined) yd.min = spec.yMin;
  }
  const yt = niceTicks(yd, 6);
  const yBase = spec.yDomain ?? (spec.yMin !== undefined ? { min: spec.yMin, max: yt.domain.max } : yt.domain);
  const yPad = spec.yDomain ? (yBase.max - yBase.min) * 0.02 : 0;
  const yDom = { min: yBase.min - yPad, max: yBase.max + yPad };
  const X = linear(xDom, M.left, M.left + pw);
  const Y = linear(yDom, top + ph, top);
  const inX = (v: number) => v >= xDom.min - 1e-9 && v <= xDom.max + 1e-9;
  const inY = (v: number) => v >= yDom.min - 1e-9 && v <= yDom.max + 1e-9;

  const out: string[] = [];
  out.push(el('rect', { x: 0, y: 0, width: W, height: H, fill: 'white' }));
  out.push(text(W / 2, 28, spec.title, { size: 18, anchor: 'middle', weight: 'bold' }));

  // grid and ticks
  for (const v of yt.ticks.filter(inY)) {
    out.push(el('line', { x1: M.left, x2: M.left + pw, y1: Y(v), y2: Y(v), stroke: '#e3e3e3', 'stroke-width': 1 }));
    out.push(text(M.left - 8, Y(v), formatTick(v, yt.step), { anchor: 'end', baseline: 'middle' }));
  }
  const xTicks = spec.xTickLabels ?? xt.ticks.filter(inX).map((v) => ({ x: v, label: formatTick(v, xt.step) }));
  for (const t of xTicks) {
    out.push(el('line', { x1: X(t.x), x2: X(t.x), y1: top + ph, y2: top + ph + 5, stroke: '#444' }));
    out.push(text(X(t.x), top + ph + 20, t.label, { anchor: 'middle' }));
  }
  out.push(el('rect', { x: M.left, y: top, width: pw, height: ph, fill: 'none', stroke: '#444', 'stroke-width': 1 }));
  out.push(text(M.left + pw / 2, top + ph + 46, spec.xLabel, { size: 15, anchor: 'middle' }));
  out.push(text(22, top + ph / 2, spec.yLabel, { size: 15, anchor: 'middle', rotate: -90 }));
  if (spec.note) out.push(text(M.left + pw / 2, top + ph + 66, spec.note, { size: 12, anchor: 'middle', fill: '#555' }));

  // plot area contents, clipped
  const body: string[] = [];
  const marks: string[] = []; // drawn unclipped, above the lines
  for (const c of spec.heat?.cells ?? []) {
    body.push(el('rect', { x: X(c.x), y: Y(c.y + c.h), width: Math.max(0.5, X(c.x + c.w) - X(c.x)), height: Math.max(0.5, Y(c.y) - Y(c.y + c.h)), fill: scaleColor(spec.heat!.colors, c.value / spec.heat!.max) }));
  }
  (spec.bands ?? []).forEach((b, i) => {
    body.push(el('rect', { x: M.left, y: Y(b.hi), width: pw, height: Math.max(1, Y(b.lo) - Y(b.hi)), fill: bandColors[i], 'fill-opacity': 0.18 }));
    if (b.mid !== undefined) body.push(el('line', { x1: M.left, x2: M.left + pw, y1: Y(b.mid), y2: Y(b.mid), stroke: bandColors[i], 'stroke-width': 1.5, 'stroke-dasharray': '8 4' }));
  });
  if (spec.diagonal) {
    const lo = Math.max(xDom.min, yDom.min);
    const hi = Math.min(xDom.max, yDom.max);
    body.push(el('path', { d: path([[X(lo), Y(lo)], [X(hi), Y(hi)]]), stroke: '#888', 'stroke-dasharray': '5 4', fill: 'none' }));
  }
  const slot = Math.min(90 * Math.max(1, bars.length), (X(xDom.min + gap) - X(xDom.min)) * 0.8);
  const bw = bars.length ? slot / bars.length : 0;
  spec.series.forEach((s, i) => {
    const c = colors[i];
    const pts = s.points.filter((p) => Number.isFinite(p.y));
    if (s.kind === 'bar') {
      const k = bars.indexOf(s);
      for (const p of pts) {
        const cx = X(p.x) - slot / 2 + bw * (k + 0.5);
        const y0 = Y(Math.max(yDom.min, 0));
        const faint = p.flag ? { 'fill-opacity': 0.3, stroke: c, 'stroke-dasharray': '4 3' } : { 'fill-opacity': 0.85 };
        body.push(el('rect', { x: cx - bw / 2 + 1, y: Math.min(Y(p.y), y0), width: Math.max(1, bw - 2), height: Math.abs(y0 - Y(p.y)), fill: c, ...faint, 'data-y': String(Number(p.y.toPrecision(4))) }));
        const ends = barEnds(p);
        if (ends) body.push(errorBar(cx, Y(ends[0]), Y(ends[1]), '#222', ends));
        if (p.flag) marks.push(text(cx, Y(Math.max(p.y, ends?.[1] ?? p.y)) - 8, p.flag, { size: 12, anchor: 'middle', fill: '#222' }));
      }
      return;
    }
    if (s.kind === 'line' && pts.length > 1) {
      body.push(el('path', { d: path(pts.map((p) => [X(p.x), Y(p.y)])), stroke: c, 'stroke-width': 2, fill: 'none', 'stroke-dasharray': s.dashed ? '7 4' : undefined }));
    }
    for (const p of pts.filter((q) => inX(q.x) && inY(q.y))) {
      const ends = barEnds(p);
      if (ends) marks.push(errorBar(X(p.x), Y(Math.max(yDom.min, ends[0])), Y(Math.min(yDom.max, ends[1])), c, ends));
      if (p.flag) marks.push(text(X(p.x), Y(p.y) - 10, p.flag, { size: 12, anchor: 'middle', fill: '#222' }));
      marks.push(marker(s.marker, X(p.x), Y(p.y), c));
    }
  });
  out.push(el('clipPath', { id: 'plot' }, el('rect', { x: M.left, y: top, width: pw, height: ph })));
  out.push(el('g', { 'clip-path': 'url(#plot)' }, body.join('')));
  out.push(...marks);

  if (spec.heat) out.push(colorBar(spec.heat, M.left + pw + 18, top, ph));

  // legend, above the plot
  let ly = M.top + 4;
  for (const row of rows) {
    let lx = M.left;
    for (const i of row) {
      const isBand = i >= spec.series.length;
      const c = isBand ? bandColors[i - spec.series.length] : colors[i];
      const s = isBand ? undefined : spec.series[i];
      const b = isBand ? spec.bands![i - spec.series.length] : undefined;
      if (b && b.lo === b.hi) {
        out.push(el('line', { x1: lx, x2: lx + 26, y1: ly + 8, y2: ly + 8, stroke: c, 'stroke-width': 1.5, 'stroke-dasharray': '8 4' }));
      } else if (isBand || s?.kind === 'bar') {
        out.push(el('rect', { x: lx, y: ly + 3, width: 26, height: 10, fill: c, 'fill-opacity': isBand ? 0.3 : 0.85 }));
      } else {
        if (s!.kind === 'line') out.push(el('line', { x1: lx, x2: lx + 26, y1: ly + 8, y2: ly + 8, stroke: c, 'stroke-width': 2, 'stroke-dasharray': s!.dashed ? '7 4' : undefined }));
        out.push(marker(s!.marker, lx + 13, ly + 8, c));
      }
      out.push(text(lx + 34, ly + 8, legendItems[i].label, { baseline: 'middle' }));
      lx += 34 + textWidth(legendItems[i].label, 13) + 18;
    }
    ly += 20;
  }

  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="${esc(FONT_FAMILY)}, sans-serif">\n${out.join('\n')}\n</svg>\n`;
}

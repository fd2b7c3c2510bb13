// The board's page: a list of sweeps and runs on the left, the selected run, sweep or comparison on the right.
// Charts come from the server as ChartSpecs (the report's own figure description) and are drawn here with
// ECharts. New data arrives through server-sent events; only what changed is fetched again.
'use strict';

const board = (window.vdsBoard = { tree: null, view: null, charts: {}, selected: null, compare: new Set(), version: -1, updates: 0 });
const STATES = ['running', 'finished', 'failed', 'interrupted', 'queued', 'unknown'];

const $ = (sel) => document.querySelector(sel);
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}
const fmt = (x, d = 4) => (x === null || x === undefined || Number.isNaN(x) ? '—' : Number(x).toFixed(d));
const base = (id) => id.split('/').pop();

async function getJson(url) {
  const r = await fetch(url, { cache: 'no-store' });
  if (!r.ok) throw new Error(`${url}: ${r.status} ${await r.text()}`);
  return r.json();
}

// ---- the list -------------------------------------------------------------------------------------------

function runMeta(r) {
  if (r.state === 'running' && r.epoch !== null) return `epoch ${r.epoch}${r.epochs ? ` of ${r.epochs}` : ''}`;
  if (r.test) return `acc ${fmt(r.test.accuracy, 3)}`;
  if (r.state === 'failed') return 'failed';
  if (r.epoch !== null) return `epoch ${r.epoch}`;
  return r.state;
}

function runRow(r) {
  const sel = board.selected && board.selected.kind === 'run' && board.selected.id === r.id;
  const box = h('input', { type: 'checkbox', title: 'compare: overlay this run on one chart with the others checked', checked: board.compare.has(r.id) || null, onclick: (e) => { e.stopPropagation(); toggleCompare(r.id, e.target.checked); } });
  return h('div', { class: `run${sel ? ' selected' : ''}`, 'data-run': r.id, 'data-state': r.state, title: `${r.id}${r.error ? `\nerror: ${r.error}` : r.message ? `\n${r.message}` : ''}`, onclick: () => select('run', r.id) },
    box,
    h('span', { class: `dot ${r.state}` }),
    // its settings before the hash (the id, cut by the sidebar's width, hid which seed was which)
    h('span', { class: 'name' }, `${r.error ? '⚠ ' : ''}${r.label || base(r.id)}`),
    h('span', { class: 'meta' }, runMeta(r)));
}

function renderList() {
  const t = board.tree;
  const nav = $('#sidebar');
  const scroll = nav.scrollTop;
  nav.replaceChildren();
  const byId = new Map(t.runs.map((r) => [r.id, r]));
  const inSweep = new Set();
  for (const s of t.sweeps) {
    const runs = s.runs.map((id) => byId.get(id)).filter(Boolean);
    runs.forEach((r) => inSweep.add(r.id));
    const done = runs.filter((r) => r.state === 'finished').length;
    const sel = board.selected && board.selected.kind === 'sweep' && board.selected.id === s.id;
    nav.append(h('div', { class: 'group', 'data-sweep': s.id },
      h('div', { class: `group-head${sel ? ' selected' : ''}`, onclick: () => select('sweep', s.id) }, s.name, h('span', { class: 'sub' }, `${s.launcher} sweep · ${done}/${runs.length} finished`)),
      runs.map(runRow)));
  }
  const loose = t.runs.filter((r) => !inSweep.has(r.id));
  if (loose.length) nav.append(h('div', { class: 'group' }, h('div', { class: 'group-head' }, 'runs', h('span', { class: 'sub' }, `${loose.length} outside a sweep`)), loose.map(runRow)));
  if (!t.runs.length && !t.sweeps.length) nav.append(h('p', { class: 'muted', style: 'padding: 0 14px' }, 'No runs here yet: they appear as `vds train` or `vds sweep` writes them.'));
  nav.scrollTop = scroll;
  const counts = STATES.map((s) => [s, t.runs.filter((r) => r.state === s).length]).filter(([, n]) => n);
  $('#counts').replaceChildren(...counts.map(([s, n]) => h('span', {}, h('span', { class: `dot ${s}` }), ` ${n} ${s}`)));
  $('#root').textContent = t.root;
}

// ---- charts: ChartSpec → ECharts ----------------------------------------------------------------------

/** How many rows the legend wraps into at `width` pixels (ECharts wraps a plain legend; the plot goes below). */
function legendRows(labels, width) {
  let rows = 1;
  let used = 0;
  for (const l of labels) {
    const w = 44 + 6.6 * l.length;
    if (used && used + w > width - 24) {
      rows++;
      used = 0;
    }
    used += w;
  }
  return labels.length ? rows : 0;
}

function option(spec, width = 560) {
  const series = [];
  const legend = [];
  const heat = spec.heat;
  for (const s of spec.series || []) {
    legend.push(s.label);
    series.push({
      name: s.label,
      type: s.kind === 'bar' ? 'bar' : s.kind === 'scatter' ? 'scatter' : 'line',
      data: s.points.map((p) => [p.x, p.y]),
      color: s.color,
      showSymbol: s.kind !== 'line' || s.points.length <= 40,
      symbol: s.marker === 'square' ? 'rect' : s.marker === 'triangle' ? 'triangle' : 'circle',
      lineStyle: { type: s.dashed ? 'dashed' : 'solid', width: 2 },
      emphasis: { focus: 'series' },
    });
    const bars = s.points.filter((p) => p.err !== undefined && p.err !== null);
    if (bars.length) {
      series.push({
        name: s.label, type: 'custom', color: s.color, silent: true, z: 1,
        data: bars.map((p) => [p.x, p.y - p.err, p.y + p.err]),
        renderItem: (params, api) => {
          const lo = api.coord([api.value(0), api.value(1)]);
          const hi = api.coord([api.value(0), api.value(2)]);
          const w = 5;
          const style = { stroke: s.color, lineWidth: 1.5 };
          return { type: 'group', children: [
            { type: 'line', shape: { x1: lo[0], y1: lo[1], x2: hi[0], y2: hi[1] }, style },
            { type: 'line', shape: { x1: lo[0] - w, y1: lo[1], x2: lo[0] + w, y2: lo[1] }, style },
            { type: 'line', shape: { x1: hi[0] - w, y1: hi[1], x2: hi[0] + w, y2: hi[1] }, style },
          ] };
        },
      });
    }
  }
  for (const b of spec.bands || []) {
    legend.push(b.label);
    series.push({
      name: b.label, type: 'line', data: [], color: b.color,
      markArea: { silent: true, itemStyle: { color: b.color, opacity: 0.18 }, data: [[{ yAxis: b.lo }, { yAxis: b.hi }]] },
      markLine: b.mid === undefined ? undefined : { silent: true, symbol: 'none', lineStyle: { color: b.color, type: 'dashed' }, label: { show: false }, data: [{ yAxis: b.mid }] },
    });
  }
  if (spec.diagonal) series.push({ name: 'perfect calibration', type: 'line', data: [[0, 0], [1, 1]], color: '#999', showSymbol: false, silent: true, lineStyle: { type: 'dashed', width: 1 } });
  const axisName = { nameLocation: 'middle', nameTextStyle: { color: '#6b7385' } };
  if (heat) {
    const xs = [...new Set(heat.cells.map((c) => c.x))].sort((a, b) => a - b);
    const ys = [...new Set(heat.cells.map((c) => c.y))].sort((a, b) => a - b);
    return {
      title: { text: spec.title, left: 8, top: 6, textStyle: { fontSize: 14 } },
      tooltip: { formatter: (p) => `epoch ${xs[p.value[0]]}, d = ${ys[p.value[1]]}: q = ${Number(p.value[2]).toFixed(3)}` },
      grid: { left: 60, right: 80, top: 44, bottom: 48 },
      xAxis: { type: 'category', data: xs, name: spec.xLabel, nameGap: 28, ...axisName },
      yAxis: { type: 'category', data: ys, name: spec.yLabel, nameGap: 36, ...axisName },
      visualMap: { min: 0, max: heat.max, calculable: false, orient: 'vertical', right: 8, top: 'center', inRange: { color: heat.colors }, text: [`q = ${heat.max}`, '0'] },
      series: [{ name: heat.label, type: 'heatmap', data: heat.cells.map((c) => [xs.indexOf(c.x), ys.indexOf(c.y), c.value]), progressive: 0 }],
      animation: false,
    };
  }
  const domain = (d) => (d ? { min: d.min, max: d.max } : {});
  return {
    title: { text: spec.title, left: 8, top: 6, textStyle: { fontSize: 14 } },
    tooltip: { trigger: 'axis', valueFormatter: (v) => (typeof v === 'number' ? v.toFixed(4) : v) },
    // every legend entry visible (no paging), the plot below them
    legend: { data: legend, top: 30, left: 8, right: 8, type: 'plain', itemGap: 14, textStyle: { fontSize: 11.5 } },
    grid: { left: 64, right: 20, top: 44 + 22 * legendRows(legend, width), bottom: 48 },
    xAxis: { type: 'value', name: spec.xLabel, nameGap: 28, scale: !spec.xDomain, minInterval: spec.xInteger ? 1 : undefined, ...domain(spec.xDomain), ...axisName },
    yAxis: { type: 'value', name: spec.yLabel, nameGap: 46, scale: true, ...domain(spec.yDomain), ...(spec.yMin !== undefined ? { min: spec.yMin } : {}), ...axisName },
    series,
    animation: false,
  };
}

/** Draws (or redraws in place) the named charts into `holder`. */
function drawCharts(holder, charts) {
  const keep = new Set(charts.map((c) => c.name));
  for (const [name, inst] of Object.entries(board.charts)) {
    if (!keep.has(name) || !document.body.contains(inst.getDom())) {
      inst.dispose();
      delete board.charts[name];
    }
  }
  for (const c of charts) {
    let inst = board.charts[c.name];
    if (!inst) {
      const div = h('div', { class: c.name === 'compare' ? 'chart wide' : 'chart', 'data-chart': c.name });
      holder.append(div);
      inst = board.charts[c.name] = echarts.init(div, null, { renderer: 'canvas' });
    }
    const opt = option(c.spec, inst.getDom().clientWidth || 560);
    // the plot keeps 250 px however many rows the legend wraps into, so a long y-axis title (centred on
    // the plot) stays clear of the legend above it: the chart grows instead
    const want = `${Math.max(c.name === 'compare' ? 440 : 360, opt.grid.top + opt.grid.bottom + 250 + 10)}px`; // + padding and border
    if (inst.getDom().style.height !== want) {
      inst.getDom().style.height = want;
      inst.resize();
    }
    inst.setOption(opt, true);
  }
}

// ---- views ------------------------------------------------------------------------------------------------

function card(k, v) {
  return h('div', { class: 'card' }, h('div', { class: 'k' }, k), h('div', { class: 'v' }, v));
}

function runHead(v) {
  const s = v.summary;
  const info = [s.method ? `${s.method} depth` : null, s.maxDepth !== null ? `D = ${s.maxDepth}` : null, s.seed !== null ? `seed ${s.seed}` : null, s.dataset, s.backend ? `backend ${s.backend}` : null].filter(Boolean);
  const progress = s.epoch !== null ? `epoch ${s.epoch}${s.epochs ? ` of ${s.epochs}` : ''}` : '';
  return [
    h('h1', {}, s.id),
    h('div', {}, h('span', { class: `badge state ${s.state}`, 'data-field': 'state' }, s.state), info.map((i) => h('span', { class: 'badge' }, i)), h('span', { class: 'muted', 'data-field': 'progress' }, progress)),
    s.message && s.state !== 'finished' ? h('div', { class: s.state === 'failed' ? 'error' : 'note' }, s.message) : null,
    v.error ? h('div', { class: 'error', 'data-field': 'error' }, `Cannot read everything of this run: ${v.error}`) : null,
  ];
}

function renderRun(v) {
  const main = $('#main');
  main.replaceChildren();
  main.append(...runHead(v).filter(Boolean));
  const cards = h('div', { class: 'cards' });
  const t = v.summary.test;
  if (t) {
    cards.append(card('test accuracy', fmt(t.accuracy)), card('test log-likelihood', fmt(t.logLikelihood)));
    if (v.summary.method === 'learnt') cards.append(card('E_q[d]', fmt(t.expectedDepth, 2)), card('d* (prune depth)', String(t.dStar)));
  }
  if (v.prune) {
    cards.append(card('pruned', v.prune.nothingPruned ? 'nothing pruned (d* = D)' : `d = ${v.prune.depth}: acc ${fmt(v.prune.pruned.accuracy)}`));
    const sp = v.prune.speedup;
    // with its range and, where that spans 1×, vds prune's verdict: the same words as the terminal and the report
    if (sp) cards.append(card('speed-up vs full', `${sp.median.toFixed(2)}× (${sp.min.toFixed(2)}–${sp.max.toFixed(2)})${sp.min < 1 && sp.max > 1 ? '; spans 1×: not a reliable speed-up' : ''}`));
  }
  if (cards.childElementCount) main.append(cards);
  if (!v.charts.length) main.append(h('p', { class: 'muted' }, 'No epochs yet: the curves appear after the first epoch.'));
  const holder = h('div', { class: 'charts' });
  main.append(holder);
  drawCharts(holder, v.charts);
  main.append(h('p', { class: 'muted' }, 'Files: ', ['metrics.csv', 'eval.json', 'status.json', 'config.yaml'].map((f) => [h('a', { href: `/files/${v.summary.id}/${f}`, target: '_blank' }, f), ' '])));
}

function renderSweep(id, v) {
  const main = $('#main');
  main.replaceChildren();
  const s = board.tree.sweeps.find((x) => x.id === id);
  main.append(h('h1', {}, s ? s.name : id), h('div', {}, h('span', { class: 'badge' }, `${s ? s.launcher : ''} sweep`), h('span', { class: 'badge' }, `${v.finished} finished run(s) in the curves`)));
  if (v.note) main.append(h('div', { class: 'note' }, v.note));
  if (v.headline.length) {
    main.append(h('table', { class: 'grid', 'data-table': 'headline' },
      h('tr', {}, ['dataset', 'D', 'predictor', 'depth', 'seeds', 'test accuracy', 'test LL'].map((c) => h('th', {}, c))),
      v.headline.map((r) => h('tr', {}, h('td', {}, r.dataset), h('td', { class: 'num' }, r.maxDepth), h('td', {}, r.predictor), h('td', { class: 'num' }, fmt(r.depth, 2)), h('td', { class: 'num' }, r.seeds), h('td', { class: 'num' }, fmt(r.accuracy)), h('td', { class: 'num' }, fmt(r.logLikelihood))))));
  }
  const holder = h('div', { class: 'charts' });
  main.append(holder);
  drawCharts(holder, v.charts);
}

const COMPARE = { loglik: 'validation log-likelihood', accuracy: 'validation accuracy', loss: 'training loss', depth: 'E_q[d]' };

async function renderCompare() {
  const ids = [...board.compare];
  const main = $('#main');
  const metric = board.compareMetric || 'loglik';
  const token = (board.compareToken = (board.compareToken || 0) + 1);
  const views = await Promise.all(ids.map((id) => getJson(`/api/run?id=${encodeURIComponent(id)}`).catch(() => null)));
  if (token !== board.compareToken) return; // a later pick (or change) is already being drawn
  const palette = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#F0E442', '#000000'];
  const series = [];
  views.forEach((v, i) => {
    const c = v && v.charts.find((x) => x.name === metric);
    const s = c && c.spec.series[0];
    if (s) series.push({ ...s, label: base(ids[i]), color: palette[i % palette.length], dashed: false });
  });
  main.replaceChildren(h('h1', {}, `Comparing ${ids.length} run(s)`),
    h('div', { class: 'toolbar' }, 'curve:', h('select', { onchange: (e) => { board.compareMetric = e.target.value; renderCompare(); } }, Object.entries(COMPARE).map(([k, label]) => h('option', { value: k, selected: k === metric || null }, label))), h('button', { onclick: () => { board.compare.clear(); renderList(); select('run', ids[0]); } }, 'clear')));
  const holder = h('div', { class: 'charts' });
  main.append(holder);
  drawCharts(holder, [{ name: 'compare', spec: { title: `${COMPARE[metric]} — ${ids.length} runs`, xLabel: 'epoch', yLabel: metric === 'depth' ? 'E_q[d]' : metric === 'accuracy' ? 'accuracy' : 'nats per example', xInteger: true, series } }]);
}

function toggleCompare(id, on) {
  if (on) board.compare.add(id);
  else board.compare.delete(id);
  if (board.compare.size) {
    board.selected = { kind: 'compare', id: null };
    renderCompare();
  } else if (board.selected && board.selected.kind === 'compare') select('run', id);
}

async function refreshView() {
  const sel = board.selected;
  if (!sel) return;
  try {
    if (sel.kind === 'run') renderRun((board.view = await getJson(`/api/run?id=${encodeURIComponent(sel.id)}`)));
    else if (sel.kind === 'sweep') renderSweep(sel.id, (board.view = await getJson(`/api/sweep?id=${encodeURIComponent(sel.id)}`)));
    else await renderCompare();
  } catch (e) {
    $('#main').replaceChildren(h('div', { class: 'error' }, String(e.message || e)));
  }
}

function select(kind, id) {
  board.selected = { kind, id };
  history.replaceState(null, '', `#${kind}=${encodeURIComponent(id)}`);
  renderList();
  return refreshView();
}

// ---- live ---------------------------------------------------------------------------------------------------

async function refreshTree() {
  board.tree = await getJson('/api/tree');
  renderList();
}

function connect() {
  const es = new EventSource('/api/events');
  es.onopen = () => { $('#live').className = 'live on'; $('#live').textContent = 'live'; };
  es.onerror = () => { $('#live').className = 'live off'; $('#live').textContent = 'reconnecting…'; };
  es.onmessage = async (m) => {
    const ev = JSON.parse(m.data);
    if (ev.version === board.version) return;
    board.version = ev.version;
    await refreshTree();
    const sel = board.selected;
    const sweepRuns = sel && sel.kind === 'sweep' ? (board.tree.sweeps.find((s) => s.id === sel.id) || { runs: [] }).runs : [];
    const touched = sel && (sel.kind === 'compare' ? ev.runs.some((r) => board.compare.has(r)) : ev.runs.includes(sel.id) || ev.runs.some((r) => sweepRuns.includes(r)));
    if (touched) await refreshView();
    board.updates++;
    $('#live').textContent = `live · updated ${new Date().toLocaleTimeString()}`;
  };
}

(async function start() {
  await refreshTree();
  const m = /^#(run|sweep)=(.*)$/.exec(location.hash);
  const running = board.tree.runs.find((r) => r.state === 'running');
  if (m) await select(m[1], decodeURIComponent(m[2]));
  else if (board.tree.sweeps.length) await select('sweep', board.tree.sweeps[0].id);
  else if (running || board.tree.runs[0]) await select('run', (running || board.tree.runs[0]).id);
  else $('#main').replaceChildren(h('p', { class: 'muted' }, 'Nothing to show yet.'));
  window.addEventListener('resize', () => Object.values(board.charts).forEach((c) => c.resize()));
  connect();
  board.ready = true;
})();

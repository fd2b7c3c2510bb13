// A second reporter for `npm test` (plain JS: node loads reporters before tsx's hooks) (beside node's spec reporter): one line per test file as it ends — how
// many of how many, its result and duration, the time so far — because the whole suite runs for minutes
// and a reporter that prints a file's tests only when they are done says nothing meanwhile. At the end, the
// total and the slowest files; the same in test-artifacts/test-durations.json ($VDS_TEST_ARTIFACTS), so a
// CI run leaves the measurement the README quotes.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** @param {number} ms */
const mmss = (ms) => {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};

/** @param {AsyncIterable<{ type: string, data: any }>} source node's test events */
export default async function* progress(source) {
  const t0 = Date.now();
  /** @type {string[]} */
  const files = []; // enqueued, in order
  const failed = new Set();
  const skipped = new Map();
  /** @type {{ file: string, ms: number, ok: boolean }[]} */
  const done = [];
  const rel = (/** @type {string} */ f) => path.relative(process.cwd(), f);
  for await (const e of source) {
    const { name, file } = e.data;
    const isFile = Boolean(file) && name === file; // the test runner's own entry for a whole file
    if (e.type === 'test:enqueue' && isFile && !files.includes(file)) files.push(file);
    else if (e.type === 'test:fail' && file) failed.add(file);
    else if (e.type === 'test:pass' && file && e.data.skip !== undefined && e.data.skip !== false) skipped.set(file, (skipped.get(file) ?? 0) + 1);
    else if (e.type === 'test:complete' && isFile) {
      const ms = e.data.details?.duration_ms ?? 0;
      const ok = !failed.has(file) && e.data.details?.passed !== false;
      done.push({ file: rel(file), ms, ok });
      const skips = skipped.get(file) ? `, ${skipped.get(file)} skipped` : '';
      yield `[${done.length}/${files.length}] ${ok ? 'ok    ' : 'FAILED'} ${rel(file)} ${(ms / 1000).toFixed(1)} s${skips} (${mmss(Date.now() - t0)} so far)\n`;
    }
  }
  const total = Date.now() - t0;
  const slowest = [...done].sort((a, b) => b.ms - a.ms).slice(0, 5);
  yield `${done.length} test files in ${mmss(total)} (m:ss); slowest: ${slowest.map((d) => `${path.basename(d.file)} ${mmss(d.ms)}`).join(', ')}\n`;
  try {
    const dir = process.env.VDS_TEST_ARTIFACTS ?? 'test-artifacts';
    mkdirSync(dir, { recursive: true });
    const record = { finishedAt: new Date().toISOString(), totalSeconds: total / 1000, files: done.map((d) => ({ file: d.file, seconds: d.ms / 1000, ok: d.ok })) };
    writeFileSync(path.join(dir, 'test-durations.json'), JSON.stringify(record, null, 2) + '\n');
  } catch {
    /* a read-only checkout: the lines above are the record */
  }
}

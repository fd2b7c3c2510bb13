// `vds report [results-dir] [--out DIR] [--format svg,png]`: tables, summary and figures from run directories.
import path from 'node:path';
import { buildReport } from '../report/index.ts';
import { VdsError } from '../util/errors.ts';

export async function reportCommand(o: { resultsDir: string; out?: string; formats?: ('svg' | 'png')[] }): Promise<void> {
  const formats = o.formats ?? ['svg', 'png'];
  for (const f of formats) if (f !== 'svg' && f !== 'png') throw new VdsError(`unknown figure format ${JSON.stringify(f)}`, { key: 'format', hint: 'use svg, png or both' });
  const out = o.out ?? path.join(o.resultsDir, 'report');
  const r = await buildReport({ resultsDir: o.resultsDir, out, formats: formats.length ? formats : ['svg', 'png'] });
  const figs = r.files.filter((f) => f.split(path.sep).includes('figures')).length;
  const sections = r.sections > 1 ? `, in ${r.sections} sections of comparable runs` : '';
  process.stdout.write(`report: ${r.runs} run(s) used, ${r.skipped} left out${sections} → ${path.join(out, 'summary.md')} (${r.files.length - figs} tables/summary, ${figs} figure files)\n`);
}

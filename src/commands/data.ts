// `vds data fetch` and `vds data list`. Progress and messages go to stderr; `list` prints its table (or
// JSON) on stdout.
import cliProgress from 'cli-progress';
import { VdsError } from '../util/errors.ts';
import { OFFICIAL, isOfficialName } from '../data/catalog.ts';
import { resolveDataDir } from '../data/dir.ts';
import { fetchDataset } from '../data/fetch.ts';
import { loadOfficial } from '../data/official.ts';
import { listDatasets, type DatasetStatus } from '../data/status.ts';

const FETCHABLE = ['mnist', 'fashion-mnist', 'svhn', 'svhn-extra', 'all'];

const mb = (n: number | null): string => (n == null ? '-' : `${(n / 1e6).toFixed(1)} MB`);

/** Dataset names from the command line: `all` = mnist, fashion-mnist, svhn; `svhn-extra` = svhn with `extra`. */
function expand(names: string[]): { name: keyof typeof OFFICIAL; extra: boolean }[] {
  if (names.length === 0) throw new VdsError('name a dataset to fetch', { hint: `one or more of: ${FETCHABLE.join(', ')}` });
  const out = new Map<keyof typeof OFFICIAL, boolean>();
  for (const n of names) {
    if (n === 'all') for (const k of Object.keys(OFFICIAL) as (keyof typeof OFFICIAL)[]) out.set(k, out.get(k) ?? false);
    else if (n === 'svhn-extra') out.set('svhn', true);
    else if (isOfficialName(n)) out.set(n, out.get(n) ?? false);
    else throw new VdsError(`unknown dataset "${n}"`, { hint: `use one of: ${FETCHABLE.join(', ')}` });
  }
  return [...out].map(([name, extra]) => ({ name, extra }));
}

function progressHooks() {
  if (!process.stderr.isTTY) return undefined; // logs and CI: one line per file is enough
  return (file: { name: string }) => {
    let bar: cliProgress.SingleBar | undefined;
    return {
      onStart: (_url: string, total: number | undefined) => {
        bar?.stop();
        bar = new cliProgress.SingleBar(
          { format: `${file.name} [{bar}] {percentage}% | {got} / {all} | {eta_formatted} left`, stream: process.stderr, hideCursor: true, clearOnComplete: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total ?? 0, 0, { got: mb(0), all: mb(total ?? null) });
      },
      onBytes: (n: number) => bar?.update(n, { got: mb(n) }),
      onFail: () => {
        bar?.stop();
        bar = undefined;
      },
    };
  };
}

export async function dataFetchCommand(o: { datasets: string[]; dataDir?: string; offline?: boolean; mirrors?: string[] }): Promise<void> {
  const dataDir = resolveDataDir(o.dataDir);
  const log = (m: string): void => void process.stderr.write(m + '\n');
  const hooks = progressHooks();
  const failures: VdsError[] = [];
  for (const { name, extra } of expand(o.datasets)) {
    const spec = OFFICIAL[name];
    try {
      await fetchDataset(spec, { dataDir, offline: o.offline, mirrors: o.mirrors, includeOptional: extra, log, hooks });
      // Decode once now, so the first training run starts from the prepared cache.
      await loadOfficial(spec, dataDir, extra ? ['train', 'test', 'extra'] : ['train', 'test'], log);
      log(`${name}: ready in ${dataDir}/${name}`);
    } catch (e) {
      if (!(e instanceof VdsError)) throw e;
      failures.push(e); // go on with the other datasets, report all at the end
    }
  }
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) {
    throw new VdsError(failures.map((f) => f.format()).join('\n'), { exitCode: Math.max(...failures.map((f) => f.exitCode)) });
  }
}

function table(list: DatasetStatus[], dataDir: string): string {
  const lines = [`data directory: ${dataDir}`, ''];
  for (const d of list) {
    if (d.kind === 'offline') {
      lines.push(`${d.name}  (offline${d.complete ? '' : ', NOT AVAILABLE'})  ${d.note ?? ''}`, `  ${d.dir}`, '');
      continue;
    }
    const state = d.complete ? 'complete, verified' : d.files.some((f) => f.present) ? 'INCOMPLETE' : 'not fetched';
    lines.push(`${d.name}  (${state})  ${d.dir}`);
    for (const f of d.files) {
      const what = !f.present ? 'missing' : f.verified ? 'verified' : `BAD: ${f.problem}`;
      const extra = [f.optional ? 'optional' : '', f.partial ? 'interrupted download (.part) present' : ''].filter(Boolean).join(', ');
      lines.push(`  ${f.name.padEnd(28)} ${mb(f.size).padStart(10)}  ${what}${extra ? `  (${extra})` : ''}`);
    }
    const prep = Object.entries(d.prepared).map(([k, v]) => `${k} ${v.n}`);
    lines.push(`  prepared: ${prep.length ? prep.join(', ') : 'none'}`);
    if (!d.complete) lines.push(`  fix: vds data fetch ${d.name}`);
    lines.push('');
  }
  return lines.join('\n');
}

export async function dataListCommand(o: { dataDir?: string; json?: boolean }): Promise<void> {
  const dataDir = resolveDataDir(o.dataDir);
  const list = await listDatasets(dataDir);
  process.stdout.write(o.json ? JSON.stringify({ dataDir, datasets: list }, null, 2) + '\n' : table(list, dataDir) + '\n');
}

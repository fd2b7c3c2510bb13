// `vds sweep --config SWEEP.yaml`: expand the grid, skip finished runs, resume interrupted ones, run the
// rest N at a time in their own processes, and keep a manifest. `--dry-run` only lists.
import os from 'node:os';
import path from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { readSweepSpec } from '../sweep/spec.ts';
import { planSweep, type PlannedRun } from '../sweep/plan.ts';
import { manifestPath, manifestRun, writeManifest, type SweepManifest } from '../sweep/manifest.ts';
import { actionFor, runSweep } from '../sweep/runner.ts';
import { VdsError } from '../util/errors.ts';
import { resolveThreads } from '../train/parallelism.ts';
import { VDS_VERSION } from '../util/version.ts';
import { sendToQueue, type QueueSendFlags } from './sweep-queue.ts';

export interface SweepOptions {
  config: string;
  jobs?: number;
  dryRun: boolean;
  set: string[];
  resultsDir?: string;
  backend?: string;
  launcher?: 'local' | 'queue';
  retryFailed?: boolean;
  queue?: QueueSendFlags; // --launcher queue
}

/** wasm and cpu use one core per process, so run one process per core; libtensorflow (CPU or GPU)
 * already spreads one run over the machine, so run one at a time. */
export function defaultJobs(backend: string): number {
  const cores = os.cpus().length;
  if (backend === 'wasm' || backend === 'cpu') return cores;
  if (backend.startsWith('tensorflow')) return 1;
  const require = createRequire(import.meta.url);
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      require.resolve(pkg);
      return 1;
    } catch {
      // not installed: wasm it is
    }
  }
  return cores;
}

export async function sweepCommand(o: SweepOptions): Promise<void> {
  const spec = readSweepSpec(o.config);
  const runs: PlannedRun[] = planSweep(spec, { resultsDir: o.resultsDir, sets: o.set, backend: o.backend });
  const ids = new Set(runs.map((r) => r.id));
  if (ids.size !== runs.length) throw new VdsError('the grid produces the same run twice', { file: o.config, key: 'grid' });
  if (o.jobs !== undefined && (!Number.isInteger(o.jobs) || o.jobs < 1)) {
    throw new VdsError(`expected a whole number ≥ 1, got ${o.jobs}`, { key: '--jobs' });
  }
  const jobs = o.jobs ?? defaultJobs(runs[0].config.backend);
  if (process.env.VDS_THREADS) resolveThreads(); // a bad value fails here, not in every child
  const sweepDir = path.join(runs[0].config.resultsDir, spec.name);

  if (o.dryRun) {
    const lines = runs.map((r) => `${actionFor(r).padEnd(6)} ${r.id}`);
    process.stdout.write(`${runs.length} runs in ${sweepDir} (${jobs} at a time)\n${lines.join('\n')}\n`);
    return;
  }

  if (o.launcher === 'queue') return sendToQueue(spec, runs, sweepDir, { ...o.queue, jobs: o.jobs, retryFailed: o.retryFailed ?? false });

  // keep what an earlier invocation recorded (attempts, times) for runs that are still in the grid
  let previous: SweepManifest | null = null;
  if (existsSync(manifestPath(sweepDir))) {
    try {
      previous = JSON.parse(readFileSync(manifestPath(sweepDir), 'utf8')) as SweepManifest;
    } catch {
      previous = null; // a damaged manifest is rebuilt from the run directories
    }
  }
  const manifest: SweepManifest = {
    name: spec.name,
    sweepFile: path.resolve(o.config),
    vdsVersion: VDS_VERSION,
    updatedAt: '',
    jobs,
    wallSeconds: null,
    runs: runs.map((r) => ({ ...manifestRun(r, sweepDir), ...pick(previous, r.id) })),
  };
  await writeManifest(sweepDir, manifest);
  const log = (m: string) => process.stderr.write(`[sweep ${spec.name}] ${m}\n`);
  log(`${runs.length} runs, ${jobs} at a time; manifest ${manifestPath(sweepDir)}`);
  const c = await runSweep(runs, manifest, sweepDir, jobs, { log });
  log(`done in ${manifest.wallSeconds?.toFixed(0)} s: ${c.finished} trained, ${c.skipped} already finished, ${c.failed} failed, ${c.interrupted} interrupted`);
  process.stdout.write(sweepDir + '\n');
  if (c.interrupted) throw new VdsError(`${c.interrupted} run(s) interrupted`, { file: sweepDir, hint: `run the same \`vds sweep\` command again to continue`, exitCode: 130 });
  if (c.failed) throw new VdsError(`${c.failed} run(s) failed; see their logs`, { file: manifestPath(sweepDir), exitCode: 1 });
}

function pick(previous: SweepManifest | null, id: string) {
  const p = previous?.runs.find((r) => r.id === id);
  return p ? { attempts: p.attempts, seconds: p.seconds, exitCode: p.exitCode } : {};
}

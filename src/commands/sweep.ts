// `vds sweep --config SWEEP.yaml [--launcher local|slurm]`: expand the grid, keep a manifest, and hand the
// runs that still need training to a launcher: child processes here, N at a time (local), or sbatch job
// arrays (slurm). Finished runs are skipped, interrupted ones resume, failed ones are left alone unless
// --retry-failed. `--dry-run` only lists (local) or writes and prints the sbatch scripts (slurm).
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { readSweepSpec } from '../sweep/spec.ts';
import { sweepFromFlags } from '../sweep/cli-grid.ts';
import { planSweep, type PlannedRun } from '../sweep/plan.ts';
import { manifestPath, manifestRun, readManifest, writeManifest, type LauncherName, type SweepManifest } from '../sweep/manifest.ts';
import { createLauncher, launcherOf } from '../sweep/launchers/index.ts';
import { resolveSlurmSettings, type SlurmSettings } from '../sweep/slurm/settings.ts';
import { VdsError } from '../util/errors.ts';
import { writeFileAtomic } from '../util/fsx.ts';
import { resolveThreads } from '../train/parallelism.ts';
import { VDS_VERSION } from '../util/version.ts';
import { resolveQueueSettings, type QueueSendFlags, type QueueSettings } from '../queue/jobs.ts';

export interface SweepOptions {
  config: string;
  grid?: string[]; // with zip and name: a sweep made from flags over the --config training config
  zip?: string[];
  name?: string;
  jobs?: number;
  dryRun: boolean;
  set: string[];
  resultsDir?: string;
  backend?: string;
  launcher?: LauncherName; // default: local
  retryFailed?: boolean;
  slurm?: Partial<SlurmSettings>; // from flags; override the sweep file's `slurm:` section
  queue?: QueueSendFlags; // --launcher queue
}

/** wasm and cpu use one core per process, so run one process per core; libtensorflow (CPU or GPU)
 * already spreads one run over the machine, so run one at a time. */
export function defaultJobs(backend: string): number {
  const cores = os.cpus().length;
  if (backend === 'wasm' || backend === 'cpu') return cores;
  if (backend.startsWith('tensorflow') || backend.startsWith('webgpu')) return 1; // one run at a time per GPU
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

/** A sweep directory another launcher still has runs queued or running in is not taken over. */
async function assertNotRunningElsewhere(previous: SweepManifest | null, launcher: LauncherName, sweepDir: string): Promise<void> {
  const before = previous?.launcher ?? 'local';
  if (!previous || before === launcher) return;
  let active = 0;
  try {
    active = [...(await launcherOf(previous).jobs(sweepDir, previous)).values()].filter((j) => j.active).length;
  } catch {
    return; // its scheduler cannot be asked from here, so it cannot be running here either
  }
  if (active) {
    throw new VdsError(`${active} run(s) of this sweep are queued or running under the ${before} launcher`, {
      file: sweepDir,
      hint: `let them finish, or stop them with \`vds sweep cancel ${sweepDir}\`, before using --launcher ${launcher}`,
    });
  }
}

export async function sweepCommand(o: SweepOptions): Promise<void> {
  const launcherName = o.launcher ?? 'local';
  // --grid: the flags make a sweep file over the --config training config, its --set values in its set:
  const fromFlags = o.grid?.length || o.zip?.length ? sweepFromFlags(o.config, { set: o.set, grid: o.grid ?? [], zip: o.zip ?? [], name: o.name }) : null;
  const spec = fromFlags?.spec ?? readSweepSpec(o.config);
  const runs: PlannedRun[] = planSweep(spec, { resultsDir: o.resultsDir, sets: fromFlags ? [] : o.set, backend: o.backend });
  const ids = new Set(runs.map((r) => r.id));
  if (ids.size !== runs.length) throw new VdsError('the grid produces the same run twice', { file: o.config, key: 'grid' });
  if (o.jobs !== undefined && (!Number.isInteger(o.jobs) || o.jobs < 1)) {
    throw new VdsError(`expected a whole number ≥ 1, got ${o.jobs}`, { key: '--jobs' });
  }
  if (process.env.VDS_THREADS) resolveThreads(); // a bad value fails here, not in every child
  const sweepDir = path.resolve(runs[0].config.resultsDir, spec.name);

  let slurm: SlurmSettings | undefined;
  let queue: QueueSettings | undefined;
  let jobs: number | null;
  if (launcherName === 'slurm') {
    slurm = resolveSlurmSettings(spec.slurm, { ...o.slurm, ...(o.jobs !== undefined ? { jobs: o.jobs } : {}) }, o.config);
    jobs = slurm.jobs;
  } else if (launcherName === 'queue') {
    queue = resolveQueueSettings(o.queue ?? {}, o.jobs);
    jobs = null; // each worker's --concurrency
  } else {
    jobs = o.jobs ?? defaultJobs(runs[0].config.backend);
  }
  const launcher = createLauncher(launcherName, { jobs: jobs ?? undefined, slurm, queue });
  // a sweep made from flags keeps its sweep file in its directory (written when the sweep starts, not on a dry run)
  const sweepFile = fromFlags ? path.join(sweepDir, 'sweep.yaml') : path.resolve(o.config);
  const plan = { name: spec.name, sweepFile, sweepDir, runs };
  const log = (m: string) => process.stderr.write(`[sweep ${spec.name}] ${m}\n`);

  // keep what an earlier invocation recorded (attempts, times, submitted arrays) for runs still in the grid
  const previous = readManifest(sweepDir); // a damaged manifest is rebuilt from the run directories
  const manifest: SweepManifest = {
    name: spec.name,
    sweepFile: plan.sweepFile,
    vdsVersion: VDS_VERSION,
    updatedAt: '',
    launcher: launcherName,
    ...(spec.axes.length ? { swept: spec.axes.flatMap((a) => a.keys) } : {}),
    jobs,
    wallSeconds: null,
    ...(previous?.slurm ? { slurm: previous.slurm } : {}),
    ...(previous?.queue ? { queue: previous.queue } : {}),
    runs: runs.map((r) => ({ ...manifestRun(r, sweepDir), ...pick(previous, r.id) })),
  };
  if (o.dryRun) {
    const outcome = await launcher.launch(plan, manifest, { dryRun: true, retryFailed: Boolean(o.retryFailed), log });
    if (launcherName !== 'local') log(outcome.summary);
    return;
  }
  await assertNotRunningElsewhere(previous, launcherName, sweepDir);
  await launcher.preflight?.();
  if (fromFlags) {
    await writeFileAtomic(sweepFile, fromFlags.text);
    const again = `vds sweep --config ${sweepFile}${o.resultsDir ? ` --results-dir ${o.resultsDir}` : ''}`;
    log(`sweep file ${sweepFile} (made from the flags: \`${again}\` runs the same sweep)`);
  }
  await writeManifest(sweepDir, manifest);
  log(`manifest ${manifestPath(sweepDir)}`);
  const outcome = await launcher.launch(plan, manifest, { dryRun: false, retryFailed: Boolean(o.retryFailed), log });
  log(outcome.summary);
  process.stdout.write(sweepDir + '\n');
  if (outcome.interrupted) throw new VdsError(`${outcome.interrupted} run(s) interrupted`, { file: sweepDir, hint: `run the same \`vds sweep\` command again to continue`, exitCode: 130 });
  if (outcome.failed) {
    throw new VdsError(`${outcome.failed} run(s) failed; see their logs and \`vds sweep status ${sweepDir}\``, {
      file: manifestPath(sweepDir),
      hint: 'after a fix, --retry-failed trains them again (from their last checkpoint)',
      exitCode: 1,
    });
  }
}

function pick(previous: SweepManifest | null, id: string) {
  const p = previous?.runs.find((r) => r.id === id);
  return p ? { attempts: p.attempts, seconds: p.seconds, exitCode: p.exitCode } : {};
}

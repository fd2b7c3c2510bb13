// `vds sweep status DIR`, `vds sweep cancel DIR` and the internal `vds sweep run-task`: what a sweep's
// runs are doing and stopping them, the same for every launcher (the manifest names the sweep's). None of
// these loads TensorFlow.js: they read files and ask the scheduler.
import path from 'node:path';
import type { SweepCancelCliOptions, SweepRunTaskCliOptions, SweepStatusCliOptions } from '../cli/commands.ts';
import { launcherOf } from '../sweep/launchers/index.ts';
import type { LauncherJob } from '../sweep/launcher.ts';
import { manifestPath, readManifest, type SweepManifest } from '../sweep/manifest.ts';
import { runTask } from '../sweep/slurm/task.ts';
import { countByView, statusRows, statusTable } from '../sweep/status.ts';
import { VdsError } from '../util/errors.ts';

function manifestOf(sweepDir: string): SweepManifest {
  const m = readManifest(sweepDir);
  if (!m) {
    throw new VdsError('not a sweep directory (no readable sweep.json)', {
      file: manifestPath(sweepDir),
      hint: 'give <resultsDir>/<sweep name>, as `vds sweep` printed it',
    });
  }
  return m;
}

export async function sweepStatusCommand(o: SweepStatusCliOptions): Promise<void> {
  const sweepDir = path.resolve(o.sweepDir);
  const manifest = manifestOf(sweepDir);
  const launcher = launcherOf(manifest);
  let jobs = new Map<string, LauncherJob>();
  let schedulerNote: string | null = null;
  let overview: string | null = null;
  try {
    jobs = await launcher.jobs(sweepDir, manifest);
    overview = (await launcher.overview?.(sweepDir, manifest)) ?? null;
  } catch (e) {
    if (!(e instanceof VdsError)) throw e;
    schedulerNote = `the ${launcher.name} launcher's view is missing: ${e.message}`; // the run directories still say a lot
  }
  const rows = statusRows(manifest, jobs);
  if (o.json) {
    process.stdout.write(JSON.stringify({ sweep: manifest.name, dir: sweepDir, launcher: launcher.name, schedulerNote, overview, counts: countByView(rows), runs: rows }, null, 2) + '\n');
    return;
  }
  process.stdout.write(`sweep ${manifest.name} (${launcher.name} launcher): ${sweepDir}\n`);
  if (schedulerNote) process.stdout.write(`note: ${schedulerNote}\n`);
  if (overview) process.stdout.write(`${overview}\n`);
  process.stdout.write(statusTable(rows, launcher.name !== 'local' || jobs.size > 0));
}

export async function sweepCancelCommand(o: SweepCancelCliOptions): Promise<void> {
  const sweepDir = path.resolve(o.sweepDir);
  const manifest = manifestOf(sweepDir);
  const launcher = launcherOf(manifest);
  const log = (m: string) => process.stderr.write(`[sweep ${manifest.name}] ${m}\n`);
  const n = await launcher.cancel(sweepDir, manifest, log);
  log(n ? `stopped ${n} run(s); their checkpoints stay, and the same \`vds sweep\` command continues them` : 'nothing queued or running');
}

export async function sweepRunTaskCommand(o: SweepRunTaskCliOptions): Promise<void> {
  const code = await runTask(path.resolve(o.tasks));
  if (code !== 0) throw new VdsError(`the task ends with exit code ${code}`, { exitCode: code });
}

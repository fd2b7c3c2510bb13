// The Slurm launcher: the runs that still need training go to the cluster as sbatch job arrays (as many
// as MaxArraySize requires), one task per run; each task is `vds sweep run-task` (slurm/task.ts), which
// decides skip / resume / fresh from the run directory exactly as the local launcher does. A run already
// queued or running (squeue) is not submitted twice, so the same command can simply be run again.
import { mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { configToYaml } from '../../config/index.ts';
import { VdsError } from '../../util/errors.ts';
import { writeFileAtomic } from '../../util/fsx.ts';
import type { Launcher, LaunchOptions, LaunchOutcome, LauncherJob, SweepPlan } from '../launcher.ts';
import { writeManifest, type SweepManifest } from '../manifest.ts';
import type { PlannedRun } from '../plan.ts';
import { actionFor, sweepConfigFile, VDS_BIN } from '../runner.ts';
import { controllerProblem, maxArraySize, queue, sbatch, scancel, slurmAvailable, type QueuedTask } from '../slurm/commands.ts';
import { arrayFiles, jobNameFor, sbatchScript, slurmDir, type TaskList } from '../slurm/script.ts';
import type { SlurmSettings } from '../slurm/settings.ts';

// squeue states in which a job will still (or does now) train its run
const WAITING = new Set(['PENDING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'SUSPENDED', 'RESV_DEL_HOLD', 'CONFIGURING', 'RESIZING']);
const RUNNING = new Set(['RUNNING', 'COMPLETING', 'SIGNALING', 'STAGE_OUT', 'STOPPED']);

/** Slurm's own default, for --dry-run on a machine without Slurm. */
const DEFAULT_MAX_ARRAY_SIZE = 1001;

/** How long `vds sweep cancel` waits for cancelled tasks to checkpoint and leave the queue (Slurm's KillWait is 30 s). */
const CANCEL_WAIT_MS = 5 * 60_000;

/** Splits the runs into arrays Slurm accepts: indices 0 … MaxArraySize − 1. */
export function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Which run each queued task trains: the script names the array, the array's task list the run. */
export function jobsByRun(sweepDir: string, tasks: QueuedTask[]): Map<string, LauncherJob> {
  const lists = new Map<string, string[] | null>();
  const prefix = slurmDir(sweepDir) + path.sep;
  const jobs = new Map<string, LauncherJob>();
  for (const t of tasks) {
    if (!t.script.startsWith(prefix) || !t.script.endsWith('.sbatch') || t.taskId === null) continue; // another sweep's
    const tasksFile = t.script.replace(/\.sbatch$/, '.tasks.json');
    if (!lists.has(tasksFile)) {
      try {
        lists.set(tasksFile, (JSON.parse(readFileSync(tasksFile, 'utf8')) as TaskList).runs.map((r) => r.id));
      } catch {
        lists.set(tasksFile, null);
      }
    }
    const id = lists.get(tasksFile)?.[t.taskId];
    if (!id) continue;
    const running = RUNNING.has(t.state);
    jobs.set(id, {
      id: `${t.arrayJobId}_${t.taskId}`,
      state: t.state,
      active: running || WAITING.has(t.state),
      running,
      reason: t.reason && t.reason !== 'None' ? t.reason : undefined,
      restarts: t.restarts,
    });
  }
  return jobs;
}

export class SlurmLauncher implements Launcher {
  readonly name = 'slurm' as const;

  constructor(private readonly settings: SlurmSettings | null) {}

  async launch(plan: SweepPlan, manifest: SweepManifest, o: LaunchOptions): Promise<LaunchOutcome> {
    const settings = this.settings;
    if (!settings) throw new Error('SlurmLauncher.launch needs settings');
    // #SBATCH lines are split at white space: the paths in them cannot hold any
    for (const [dir, key] of [[plan.sweepDir, 'resultsDir'], [process.cwd(), 'the working directory']]) {
      if (/[\s'"\\]/.test(dir)) throw new VdsError('a path for Slurm cannot contain spaces, quotes or backslashes', { file: dir, key });
    }
    const onCluster = await slurmAvailable();
    if (!onCluster && !o.dryRun) {
      throw new VdsError('the Slurm commands (sbatch, squeue, scontrol) are not on PATH', {
        key: '--launcher',
        hint: 'run vds on a machine of the cluster (a login node), or --dry-run to write the scripts only',
      });
    }
    let live = new Map<string, LauncherJob>();
    let maxArray = DEFAULT_MAX_ARRAY_SIZE;
    if (!onCluster) o.log(`no Slurm here: assuming MaxArraySize ${DEFAULT_MAX_ARRAY_SIZE} and an empty queue`);
    else {
      // Slurm's clients without a controller to answer them (a workstation with the client installed): a dry
      // run only writes scripts, so it goes on with the defaults; a submission cannot
      const problem = await controllerProblem();
      if (problem && !o.dryRun) {
        throw new VdsError(`Slurm's controller does not answer (${problem})`, {
          key: '--launcher',
          hint: 'submit from a node of the cluster (SLURM_CONF must name its slurm.conf), or --dry-run to write the scripts only',
          exitCode: 1,
        });
      }
      if (problem) o.log(`Slurm does not answer (${problem}): assuming MaxArraySize ${DEFAULT_MAX_ARRAY_SIZE} and an empty queue`);
      else {
        live = jobsByRun(plan.sweepDir, await queue(jobNameFor(plan.name)));
        maxArray = await maxArraySize();
      }
    }

    const submit: PlannedRun[] = [];
    const count = { finished: 0, failed: 0, active: 0 };
    for (const r of plan.runs) {
      const action = actionFor(r, o);
      const entry = manifest.runs.find((m) => m.id === r.id)!;
      if (action === 'skip') {
        count.finished++;
        entry.state = 'finished';
      } else if (live.get(r.id)?.active) {
        count.active++;
        entry.state = 'submitted';
      } else if (action === 'failed') {
        count.failed++;
        entry.state = 'failed';
      } else submit.push(r);
    }

    const arrays = manifest.slurm?.arrays ?? [];
    const chunks = chunk(submit, maxArray);
    const submitted: string[] = [];
    for (const [k, runs] of chunks.entries()) {
      const name = `array-${arrays.length + 1 + (o.dryRun ? k : 0)}`;
      const files = arrayFiles(plan.sweepDir, name);
      await this.writeArrayFiles(plan, name, runs, o.retryFailed);
      const script = sbatchScript({ sweepName: plan.name, sweepDir: plan.sweepDir, workDir: process.cwd(), arrayName: name, tasks: runs.length, settings, node: process.execPath, vdsBin: VDS_BIN });
      await writeFileAtomic(files.script, script);
      if (o.dryRun) {
        process.stdout.write(`# ---- ${files.script}\n${script}`);
        continue;
      }
      const jobId = await sbatch(files.script);
      arrays.push({ name, jobId, runs: runs.map((r) => r.id), submittedAt: new Date().toISOString() });
      for (const r of runs) manifest.runs.find((m) => m.id === r.id)!.state = 'submitted';
      manifest.slurm = { arrays };
      await writeManifest(plan.sweepDir, manifest);
      submitted.push(`${jobId} (${runs.length} task${runs.length > 1 ? 's' : ''})`);
      o.log(`submitted ${name} as job ${jobId}: ${runs.length} run(s)`);
    }
    if (!o.dryRun) {
      manifest.slurm = { arrays };
      await writeManifest(plan.sweepDir, manifest);
    }
    const what = o.dryRun ? `would submit ${submit.length} run(s) in ${chunks.length} array(s)` : `submitted ${submit.length} run(s)${submitted.length ? ` as job ${submitted.join(', ')}` : ''}`;
    const failed = count.failed ? `, ${count.failed} failed earlier (not retried; --retry-failed retries them)` : '';
    return {
      summary: `${what} (MaxArraySize ${maxArray}); ${count.finished} already finished, ${count.active} already queued or running${failed}`,
      failed: 0, // the submission did what it was asked; `vds sweep status` shows the runs' fate
      interrupted: 0,
    };
  }

  /** The configs, the task list and the per-task log links of one array (what its script relies on). */
  private async writeArrayFiles(plan: SweepPlan, name: string, runs: PlannedRun[], retryFailed: boolean): Promise<void> {
    const files = arrayFiles(plan.sweepDir, name);
    const list: TaskList = { sweepDir: plan.sweepDir, retryFailed, runs: [] };
    rmSync(files.links, { recursive: true, force: true });
    mkdirSync(files.links, { recursive: true });
    mkdirSync(path.join(plan.sweepDir, 'logs'), { recursive: true });
    for (const [t, r] of runs.entries()) {
      const config = sweepConfigFile(plan.sweepDir, r.id);
      await writeFileAtomic(config, configToYaml(r.config));
      list.runs.push({ id: r.id, dir: path.resolve(r.dir), config: path.resolve(config) });
      symlinkSync(path.join('..', '..', 'logs', `${r.id}.log`), path.join(files.links, `${t}.log`));
    }
    await writeFileAtomic(files.tasks, JSON.stringify(list, null, 2) + '\n');
  }

  async jobs(sweepDir: string, manifest: SweepManifest): Promise<Map<string, LauncherJob>> {
    return jobsByRun(sweepDir, await queue(jobNameFor(manifest.name)));
  }

  async cancel(sweepDir: string, manifest: SweepManifest, log: (m: string) => void): Promise<number> {
    const name = jobNameFor(manifest.name);
    const mine = (tasks: QueuedTask[]) => [...jobsByRun(sweepDir, tasks).values()].filter((j) => j.active);
    const jobs = mine(await queue(name));
    if (!jobs.length) return 0;
    // cancel whole arrays: pending tasks that Slurm has not split off yet have no job id of their own
    const arrays = [...new Set(jobs.map((j) => j.id.split('_')[0]))];
    await scancel(arrays);
    log(`cancelled job ${arrays.join(', ')} (${jobs.length} task(s)); waiting for running tasks to checkpoint and end`);
    // a cancelled task gets SIGTERM, checkpoints and exits; wait until none is left, so that afterwards
    // the checkpoints are all in place
    const deadline = Date.now() + CANCEL_WAIT_MS;
    for (let left = mine(await queue(name)); left.length; left = mine(await queue(name))) {
      if (Date.now() > deadline) {
        throw new VdsError(`${left.length} task(s) still in the queue ${CANCEL_WAIT_MS / 60_000} min after the cancel: ${left.map((j) => `${j.id} ${j.state}`).join(', ')}`, { file: sweepDir, exitCode: 1 });
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    return jobs.length;
  }
}

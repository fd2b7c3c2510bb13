// Who trains a sweep's runs. Every launcher sits behind this one interface, so `vds sweep`, `vds sweep
// status` and `vds sweep cancel` read the same for all of them: `local` (child processes on this machine)
// `slurm` (one sbatch job array per chunk of the grid) and `queue` (BullMQ jobs for `vds worker`s). A launcher never
// decides on its own whether a run is done: the run directories say that (runner.ts `actionFor`), and a
// launcher adds what only it knows, namely which runs are queued or running under it.
import type { LauncherName, SweepManifest } from './manifest.ts';
import type { PlannedRun } from './plan.ts';

/** A sweep about to be launched: the grid, planned, and where it lives. */
export interface SweepPlan {
  name: string;
  sweepFile: string;
  sweepDir: string;
  runs: PlannedRun[];
}

export interface LaunchOptions {
  dryRun: boolean;
  retryFailed: boolean; // train runs whose status.json says failed again (from their checkpoint)
  log(message: string): void;
}

/** What became of a launch; `vds sweep` prints it and turns it into an exit code. */
export interface LaunchOutcome {
  summary: string; // one line
  failed: number; // runs that failed (now or earlier, not retried)
  interrupted: number; // runs stopped before the end and not handed on to anyone
}

/** One run's job as its launcher sees it. */
export interface LauncherJob {
  id: string; // e.g. "4117_3" (Slurm array 4117, task 3) or "pid 5120" (local)
  state: string; // the launcher's own word: PENDING, RUNNING, REQUEUED, ... (Slurm) or RUNNING (local)
  active: boolean; // queued or running: a re-submission must not add a second one
  running: boolean;
  reason?: string; // why it waits (Slurm: Resources, BeginTime, JobHeldUser, ...)
  restarts?: number; // times the scheduler restarted it (Slurm: requeues)
  failed?: string; // the launcher gave up on it, and why (queue: bad input, or a crash on every attempt)
}

export interface Launcher {
  readonly name: LauncherName;
  /** Checks, before sweep.json is written, that the launcher can take the sweep at all (queue: Redis answers),
   * so that a send that cannot happen leaves no manifest naming a launcher that never got the runs. */
  preflight?(): Promise<void>;
  /** Trains (local: here, to the end) or hands over (slurm: submits) the runs that still need it. */
  launch(plan: SweepPlan, manifest: SweepManifest, o: LaunchOptions): Promise<LaunchOutcome>;
  /** The launcher's view of the sweep's runs, by run id; runs it knows nothing about are absent. */
  jobs(sweepDir: string, manifest: SweepManifest): Promise<Map<string, LauncherJob>>;
  /** One line about the launcher's side as a whole, for `vds sweep status` (queue: its counts and workers). */
  overview?(sweepDir: string, manifest: SweepManifest): Promise<string | null>;
  /** Stops the sweep's queued and running runs, letting running ones checkpoint; returns how many. */
  cancel(sweepDir: string, manifest: SweepManifest, log: (m: string) => void): Promise<number>;
}

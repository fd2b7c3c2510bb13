// The local launcher's engine: each run as its own `vds train` process (a failure or leak in one cannot
// touch another), N at a time. Finished runs are skipped, failed ones left alone (unless retrying), runs
// with a checkpoint resumed; the manifest records every state change. Stopping the sweep (SIGINT/SIGTERM)
// lets running children checkpoint. `actionFor` and `trainArgs` are shared with the Slurm task
// (sweep/slurm/task.ts), so every launcher decides the same way.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, rmSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { configToYaml } from '../config/index.ts';
import { RUN_FILES } from '../runs/layout.ts';
import { readStatus } from '../runs/run-dir.ts';
import { waitForHolder } from '../runs/lock.ts';
import { writeFileAtomic } from '../util/fsx.ts';
import { writeManifest, type ManifestRun, type SweepManifest } from './manifest.ts';
import type { PlannedRun } from './plan.ts';

/** The entry point this vds runs from: children (and Slurm jobs) start the same code. */
export const VDS_BIN = fileURLToPath(new URL('../../bin/vds.mjs', import.meta.url));

/**
 * checkpoints/last.ckpt, as runs/execute.ts's checkpointPath(dir, 'last') names it (a test holds them
 * equal): written out here so that the processes that only supervise runs (the sweep, a Slurm task,
 * `vds sweep status`) never load TensorFlow.js.
 */
export const lastCheckpointPath = (runDir: string): string => path.join(runDir, RUN_FILES.checkpoints, 'last.ckpt');

/** skip: finished; failed: failed earlier and left alone; resume: from its last checkpoint; fresh: from scratch. */
export type RunAction = 'skip' | 'failed' | 'resume' | 'fresh';

/**
 * What a (re)started sweep does with a run, from what its directory holds. A failed run is not retried
 * unless asked: the same code, data and seed would most likely fail the same way, and its status.json
 * keeps the reason for the user to read.
 */
export function actionFor(r: { dir: string }, o: { retryFailed?: boolean } = {}): RunAction {
  const status = readStatus(r.dir);
  if (status?.state === 'finished' && existsSync(path.join(r.dir, RUN_FILES.eval))) return 'skip';
  if (status?.state === 'failed' && !o.retryFailed) return 'failed';
  if (existsSync(lastCheckpointPath(r.dir))) return 'resume';
  return 'fresh';
}

/** The `vds train` arguments for a run that is to be trained (action resume or fresh). */
export function trainArgs(action: 'resume' | 'fresh', r: { id: string; dir: string }, configFile: string): string[] {
  return action === 'resume'
    ? ['train', '--resume', r.dir, '--progress', 'plain']
    : ['train', '--config', configFile, '--run-id', r.id, '--progress', 'plain'];
}

/** A fresh start must not find a half-made run directory (no checkpoint in it: nothing worth keeping). */
export function clearForFreshStart(dir: string): void {
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
}

export const sweepConfigFile = (sweepDir: string, id: string): string => path.join(sweepDir, 'configs', `${id}.yaml`);

/** wasm threads per child: the cores shared out among the runs that go at once. */
export function childThreads(jobs: number): number {
  return Math.max(1, Math.floor(availableParallelism() / Math.max(1, jobs)));
}

export interface RunnerEvents {
  log(message: string): void;
}

export interface SweepCounts {
  finished: number; // trained to the end now
  failed: number; // failed now
  failedBefore: number; // failed in an earlier invocation, not retried
  skipped: number; // already finished
  interrupted: number;
}

export async function runSweep(
  runs: PlannedRun[],
  manifest: SweepManifest,
  sweepDir: string,
  jobs: number,
  events: RunnerEvents,
  o: { retryFailed?: boolean } = {},
): Promise<SweepCounts> {
  const entries = new Map<string, ManifestRun>(manifest.runs.map((m) => [m.id, m]));
  const children = new Set<ChildProcess>();
  let stopping = false;
  const onSignal = (): void => {
    stopping = true;
    events.log(`stopping: asking ${children.size} running run(s) to checkpoint`);
    for (const c of children) c.kill('SIGTERM');
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const counts: SweepCounts = { finished: 0, failed: 0, failedBefore: 0, skipped: 0, interrupted: 0 };
  // workers finish concurrently: chain the manifest writes so they land in order
  let saving: Promise<void> = Promise.resolve();
  const save = (): Promise<void> => (saving = saving.then(() => writeManifest(sweepDir, manifest)));
  mkdirSync(path.join(sweepDir, 'logs'), { recursive: true });

  const runOne = async (r: PlannedRun): Promise<void> => {
    const entry = entries.get(r.id)!;
    // a live holder — the child of a sweep that was killed, which notices its parent is gone, checkpoints
    // and exits within seconds — is waited for: deciding now would see no checkpoint yet and start the run
    // afresh over the one being saved
    const holder = await waitForHolder(r.dir, 60_000);
    if (holder) {
      entry.state = 'interrupted';
      counts.interrupted++;
      events.log(`busy        ${r.id} (held by pid ${holder.pid} on ${holder.host} for over a minute; left alone)`);
      return;
    }
    const action = actionFor(r, o);
    if (action === 'skip') {
      entry.state = 'finished';
      counts.skipped++;
      return;
    }
    if (action === 'failed') {
      entry.state = 'failed';
      counts.failedBefore++;
      events.log(`failed      ${r.id} (earlier: ${readStatus(r.dir)?.message ?? 'see its log'}; not retried without --retry-failed)`);
      return;
    }
    if (action === 'fresh') clearForFreshStart(r.dir);
    const cfgFile = sweepConfigFile(sweepDir, r.id);
    await writeFileAtomic(cfgFile, configToYaml(r.config));
    const args = trainArgs(action, r, cfgFile);
    entry.state = 'running';
    entry.attempts++;
    await save();
    events.log(`${action === 'resume' ? 'resume' : 'start '} ${r.id}`);
    const t0 = Date.now();
    const log = createWriteStream(entry.log, { flags: 'a' });
    const child = spawn(process.execPath, [VDS_BIN, ...args], {
      env: { ...process.env, VDS_SWEEP_PARENT: String(process.pid), VDS_THREADS: process.env.VDS_THREADS || String(childThreads(jobs)) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    const code: number = await new Promise((resolve) => {
      child.on('error', () => resolve(1));
      child.on('close', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
    });
    children.delete(child);
    log.end();
    entry.exitCode = code;
    entry.seconds = (entry.seconds ?? 0) + (Date.now() - t0) / 1000;
    entry.state = code === 0 ? 'finished' : code === 130 || stopping ? 'interrupted' : 'failed';
    counts[entry.state === 'finished' ? 'finished' : entry.state === 'interrupted' ? 'interrupted' : 'failed']++;
    events.log(`${entry.state.padEnd(11)} ${r.id} (${Math.round((Date.now() - t0) / 1000)} s${code ? `, exit ${code}, log ${entry.log}` : ''})`);
    await save();
  };

  const queue = [...runs];
  const t0 = Date.now();
  const worker = async (): Promise<void> => {
    for (let r = queue.shift(); r && !stopping; r = queue.shift()) await runOne(r);
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, jobs) }, worker));
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  manifest.wallSeconds = (Date.now() - t0) / 1000;
  await save();
  return counts;
}

// What a worker does with one job: check it can reach the run, decide fresh / resume / already done with
// the local runner's own rule, train in a child process on a slot of its own (and a GPU of its own), and
// turn the child's exit into the job's fate: completed, back in the queue, retried, or failed for good.
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DelayedError, UnrecoverableError, WaitingError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { RUN_FILES, type EnvRecord, type SchedulerRecord } from '../runs/layout.ts';
import { SCHEDULER_ENV } from '../runs/run-dir.ts';
import { actionFor, childThreads, clearForFreshStart } from '../sweep/runner.ts';
import { writeFileAtomic } from '../util/fsx.ts';
import { VDS_VERSION } from '../util/version.ts';
import { CANCELLED, cancelKey, isQueuedRun, type QueuedRun } from './jobs.ts';
import { outcomeOf, startTraining, type ChildExit } from './train-child.ts';
import type { ChildProcess } from 'node:child_process';

/** Why the worker stopped a child: each sends the job somewhere else. */
export type StopReason = 'shutdown' | 'disconnected' | 'lock-lost' | 'cancelled';

export interface ActiveRun {
  runId: string;
  child: ChildProcess;
  stop: StopReason | null;
}

/** What the jobs of one worker share. */
export interface WorkerContext {
  name: string;
  queue: string;
  client: Redis;
  concurrency: number;
  freeSlots: { index: number; device: string | null; webgpuAdapter: string | null }[];
  active: Map<string, ActiveRun>; // by job id
  stopping(): boolean;
  refuse(message: string, sweepDir: string): void; // this machine cannot do the sweep's runs: stop the worker
  log(message: string): void;
  tally(what: 'finished' | 'failed' | 'returned'): void;
}

// a run directory held by another process (a previous holder still checkpointing): look again soon
const BUSY_RETRY_MS = 5000;

export interface JobResult {
  runDir: string;
  worker: string;
  seconds: number;
  skipped: boolean;
}

export async function processJob(ctx: WorkerContext, job: Job<QueuedRun>, token: string): Promise<JobResult> {
  const run = job.data;
  if (!isQueuedRun(run)) throw new UnrecoverableError(`job ${job.id} is not a vds run (sent by something else to queue "${ctx.queue}")`);
  if (ctx.stopping()) return giveBack(job, token);
  if (await ctx.client.exists(cancelKey(ctx.queue, job.id!))) return dropCancelled(ctx, job, token);
  const unreachable = whyUnreachable(run);
  if (unreachable) {
    ctx.refuse(unreachable, run.sweepDir);
    return giveBack(job, token);
  }
  // the job's attempts decide whether a failed run is tried again, so a failed status.json is resumed
  const action = actionFor({ dir: run.dir }, { retryFailed: true });
  if (action === 'skip' || action === 'failed') { // ('failed' only without retryFailed)
    ctx.log(`finished    ${run.runId} (already finished in ${run.dir})`);
    return { runDir: run.dir, worker: ctx.name, seconds: 0, skipped: true };
  }
  if (action === 'fresh') clearForFreshStart(run.dir);

  const attempt = job.attemptsMade + 1;
  const attempts = job.opts.attempts ?? 1;
  if (run.vdsVersion !== VDS_VERSION) ctx.log(`warning: ${run.runId} was sent by vds ${run.vdsVersion}; this worker is vds ${VDS_VERSION}`);
  const slot = ctx.freeSlots.pop()!; // BullMQ never runs more than `concurrency` processors at once
  let exit: ChildExit;
  let entry: ActiveRun;
  try {
    const device = slot.device ? `, GPU ${slot.device}` : '';
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      VDS_SWEEP_PARENT: String(process.pid), // a child whose worker is killed checkpoints and stops
      VDS_THREADS: process.env.VDS_THREADS || String(childThreads(ctx.concurrency)),
      ...(slot.device ? { CUDA_VISIBLE_DEVICES: slot.device } : {}),
      // CUDA_VISIBLE_DEVICES does not reach Vulkan: a webgpu run is given its adapter by index
      ...(slot.webgpuAdapter !== null ? { VDS_WEBGPU_ADAPTER: slot.webgpuAdapter } : {}),
      [SCHEDULER_ENV]: JSON.stringify(await recordAttempt(run, action, job, slot.device)),
    };
    ctx.log(`${action === 'resume' ? 'resume' : 'start '}      ${run.runId} (attempt ${attempt} of ${attempts}${device})`);
    const training = startTraining(run, action, env, `worker ${ctx.name}, job ${job.id}, attempt ${attempt} of ${attempts}, ${action}${device}`);
    entry = { runId: run.runId, child: training.child, stop: null };
    ctx.active.set(job.id!, entry);
    if (ctx.stopping()) {
      entry.stop = 'shutdown'; // the worker began to stop while this run was being set up
      training.child.kill('SIGTERM');
    }
    exit = await training.exited;
  } finally {
    ctx.active.delete(job.id!);
    ctx.freeSlots.push(slot);
  }

  const outcome = outcomeOf(exit, entry.stop !== null);
  const took = `${exit.seconds.toFixed(0)} s`;
  switch (outcome.kind) {
    case 'finished':
      ctx.log(`finished    ${run.runId} (${took})`);
      ctx.tally('finished');
      return { runDir: run.dir, worker: ctx.name, seconds: exit.seconds, skipped: false };
    case 'stopped':
      if (entry.stop === 'cancelled') return dropCancelled(ctx, job, token);
      // 130: it checkpointed; killed by the SIGTERM: it had not begun to train (nothing to keep)
      ctx.log(`${exit.code === 130 ? 'checkpointed' : 'stopped     '} ${run.runId} (${took}); ${entry.stop === 'lock-lost' ? 'another worker has its job' : 'back in the queue'}`);
      ctx.tally('returned');
      // a lost lock means the job is already someone else's: touch nothing
      if (entry.stop === 'lock-lost') throw new WaitingError();
      return giveBack(job, token);
    case 'busy':
      ctx.log(`busy        ${run.runId}: ${outcome.reason}; trying again in ${BUSY_RETRY_MS / 1000} s`);
      await job.moveToDelayed(Date.now() + BUSY_RETRY_MS, token);
      throw new DelayedError();
    case 'bad-input':
      ctx.log(`failed      ${run.runId}: ${outcome.reason} (bad input: not retried; log ${run.log})`);
      ctx.tally('failed');
      throw new UnrecoverableError(outcome.reason);
    case 'crashed':
      ctx.log(`crashed     ${run.runId}: ${outcome.reason} (attempt ${attempt} of ${attempts}; log ${run.log})`);
      ctx.tally('failed');
      throw new Error(outcome.reason);
  }
}

/**
 * env.json's scheduler record with this start added: which job and worker trained the run, also after
 * Redis has forgotten. A fresh `vds train` takes it from $VDS_SCHEDULER; a resumed one keeps env.json's.
 */
async function recordAttempt(run: QueuedRun, action: 'fresh' | 'resume', job: Job<QueuedRun>, gpu: string | null): Promise<SchedulerRecord> {
  const restarts = Math.max(0, (job.attemptsStarted ?? 1) - 1);
  const attempt = { jobId: job.id!, restarts, host: os.hostname(), gpus: gpu, startedAt: new Date().toISOString() };
  const envFile = path.join(run.dir, RUN_FILES.env);
  const env = action === 'resume' && existsSync(envFile) ? (JSON.parse(readFileSync(envFile, 'utf8')) as EnvRecord) : null;
  const record: SchedulerRecord = { launcher: 'queue', jobId: job.id!, restarts, attempts: [...(env?.scheduler?.attempts ?? []), attempt] };
  if (env) await writeFileAtomic(envFile, JSON.stringify({ ...env, scheduler: record }, null, 2) + '\n');
  return record;
}

/** Null if this machine can read the run's config and write the sweep's directory, else why not. */
function whyUnreachable(run: QueuedRun): string | null {
  try {
    if (!statSync(run.sweepDir).isDirectory()) return `${run.sweepDir} is not a directory`;
    accessSync(run.sweepDir, constants.W_OK);
    accessSync(run.configFile, constants.R_OK);
    return null;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return `${err.path ?? run.sweepDir} (${err.code ?? err.message})`;
  }
}

/** The job goes back to waiting, its attempts untouched, for this or another worker to take. */
async function giveBack(job: Job<QueuedRun>, token: string): Promise<never> {
  try {
    await job.moveToWait(token);
  } catch {
    // the lock is gone (a long disconnection): the stall check has already put the job back
  }
  throw new WaitingError();
}

/** `vds sweep cancel` asked for it: out of the queue; its run directory keeps its checkpoint. */
async function dropCancelled(ctx: WorkerContext, job: Job<QueuedRun>, token: string): Promise<never> {
  ctx.log(`cancelled   ${job.data.runId} (vds sweep cancel)`);
  try {
    // failed first, since no worker takes a failed job (back in the wait list, another slot might), then gone
    await job.moveToFailed(new UnrecoverableError(CANCELLED), token, false);
    await job.remove();
  } catch {
    // `vds sweep cancel` removes it itself
  }
  throw new WaitingError();
}

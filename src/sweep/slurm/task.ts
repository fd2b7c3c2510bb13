// `vds sweep run-task --tasks FILE`: what one Slurm array task does. It finds its run (task id → the
// array's task list), decides with the local launcher's rule (runner.ts `actionFor`: skip finished, leave
// failed, resume from the last checkpoint, or start fresh), and trains it in a `vds train` child.
//
// Time limits and preemption. Slurm sends USR1 to the batch shell (`--signal=B:USR1@S`), which `exec`
// made this process; it asks the child to checkpoint (SIGTERM: finish the step, write last.ckpt, exit 130).
// A preemption, a time limit or a cancel sends SIGTERM to every process of the job, the child included,
// so that one is not passed on (a second SIGTERM would kill the child before its checkpoint). Only once
// the child has exited, its checkpoint renamed into place, does the task requeue itself
// (`scontrol requeue`): requeueing first would let Slurm kill the child mid-write. The time limit reached
// without a warning (no `signalBefore`, or a step longer than it) also requeues: its SIGTERM comes with the
// job COMPLETING for reason TimeLimit, and the checkpoint must be written within Slurm's KillWait. A job the
// user cancelled (COMPLETING, reason None) is not requeued: Slurm would accept that requeue and bring it back.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RUN_FILES, type EnvRecord, type SchedulerRecord } from '../../runs/layout.ts';
import { readStatus, SCHEDULER_ENV } from '../../runs/run-dir.ts';
import { VdsError } from '../../util/errors.ts';
import { writeFileAtomic } from '../../util/fsx.ts';
import { actionFor, clearForFreshStart, trainArgs, VDS_BIN } from '../runner.ts';
import { jobState, requeue } from './commands.ts';
import type { TaskList } from './script.ts';

type Env = Record<string, string | undefined>;

export function readTaskList(file: string): TaskList {
  try {
    const t = JSON.parse(readFileSync(file, 'utf8')) as TaskList;
    if (!Array.isArray(t.runs)) throw new Error('no runs');
    return t;
  } catch (e) {
    throw new VdsError(`cannot read the array's task list (${(e as Error).message})`, { file });
  }
}

/** This task's run, from $SLURM_ARRAY_TASK_ID. */
export function taskRun(list: TaskList, env: Env, file: string): TaskList['runs'][number] {
  const t = Number(env.SLURM_ARRAY_TASK_ID);
  if (env.SLURM_ARRAY_TASK_ID === undefined || !Number.isInteger(t)) {
    throw new VdsError('SLURM_ARRAY_TASK_ID is not set: run-task runs inside a Slurm job array', { key: 'SLURM_ARRAY_TASK_ID' });
  }
  const run = list.runs[t];
  if (!run) throw new VdsError(`task ${t} is beyond the ${list.runs.length} runs of the list`, { file, key: 'SLURM_ARRAY_TASK_ID' });
  return run;
}

/** Threads for wasm training: what Slurm allocated to the task, unless VDS_THREADS says otherwise. */
export function threadsFromAllocation(env: Env): string | undefined {
  if (env.VDS_THREADS) return env.VDS_THREADS;
  const perTask = Number(env.SLURM_CPUS_PER_TASK);
  if (Number.isInteger(perTask) && perTask > 0) return String(perTask);
  const onNode = /^(\d+)/.exec(env.SLURM_JOB_CPUS_PER_NODE ?? '')?.[1]; // "4" or "4(x2)"
  return onNode;
}

export interface Attempt {
  jobId: string; // "<array job id>_<task id>"
  restarts: number;
  host: string;
  gpus: string | null; // the GPUs Slurm gave the task (CUDA_VISIBLE_DEVICES, which TensorFlow obeys)
  startedAt: string;
}

export function attemptFromEnv(env: Env): Attempt {
  return {
    jobId: `${env.SLURM_ARRAY_JOB_ID ?? env.SLURM_JOB_ID}_${env.SLURM_ARRAY_TASK_ID}`,
    restarts: Number(env.SLURM_RESTART_COUNT ?? 0) || 0,
    host: os.hostname(),
    gpus: env.CUDA_VISIBLE_DEVICES ?? null,
    startedAt: new Date().toISOString(),
  };
}

/** The run's scheduler record with this attempt added (env.json keeps every start of the job). */
export function withAttempt(previous: SchedulerRecord | undefined, a: Attempt): SchedulerRecord {
  return { launcher: 'slurm', jobId: a.jobId, restarts: a.restarts, attempts: [...(previous?.attempts ?? []), a] };
}

const log = (m: string): void => void process.stderr.write(`[vds task ${new Date().toISOString()}] ${m}\n`);

/** Runs this task's run; returns the exit code for the job. */
export async function runTask(tasksFile: string, env: Env = process.env): Promise<number> {
  const list = readTaskList(tasksFile);
  const run = taskRun(list, env, tasksFile);
  const attempt = attemptFromEnv(env);
  const slurmJobId = env.SLURM_JOB_ID ?? attempt.jobId;

  let stop: 'USR1' | 'SIGTERM' | null = env.VDS_STOP_REQUESTED ? 'USR1' : null;
  let child: ReturnType<typeof spawn> | null = null;
  let stateAtTerm: ReturnType<typeof jobState> | null = null;
  const onUsr1 = (): void => {
    log('USR1 (time limit near, or a request to checkpoint): stopping the run at its next step');
    if (stop === null) {
      stop = 'USR1';
      child?.kill('SIGTERM');
    }
  };
  const onTerm = (): void => {
    log('SIGTERM (preemption, time limit or cancel): the run checkpoints');
    stop ??= 'SIGTERM';
    stateAtTerm ??= jobState(slurmJobId); // a cancel shows here as CANCELLED
  };
  process.on('SIGUSR1', onUsr1); // a listener also keeps Node from opening its inspector on USR1
  process.on('SIGTERM', onTerm);
  try {
    log(`job ${attempt.jobId} (Slurm job ${slurmJobId}, restart ${attempt.restarts}) on ${attempt.host}: run ${run.id}`);
    const action = actionFor(run, { retryFailed: list.retryFailed });
    if (action === 'skip') {
      log('already finished: nothing to do');
      return 0;
    }
    if (action === 'failed') {
      log(`failed earlier (${readStatus(run.dir)?.message ?? 'see above'}); not retried without --retry-failed`);
      return 1;
    }
    let code = 130;
    if (stop === null) {
      code = await train(action, run, attempt, env, (c) => {
        child = c;
        if (stop === 'USR1') c.kill('SIGTERM'); // USR1 came while the child was starting
      });
    }
    if (code !== 130 || stop === null) {
      log(code === 0 ? 'finished' : `vds train ended with exit code ${code}`);
      return code;
    }
    return await requeueUnlessCancelled(slurmJobId, stop, stateAtTerm);
  } finally {
    process.removeListener('SIGUSR1', onUsr1);
    // SIGTERM stays handled to the end: the requeue's own SIGTERM must not cut this process short
  }
}

async function train(
  action: 'resume' | 'fresh',
  run: TaskList['runs'][number],
  attempt: Attempt,
  env: Env,
  started: (c: ReturnType<typeof spawn>) => void,
): Promise<number> {
  const envFile = path.join(run.dir, RUN_FILES.env);
  if (action === 'fresh') clearForFreshStart(run.dir);
  // a resumed `vds train` keeps env.json as it finds it and adds to it; a fresh one takes $VDS_SCHEDULER
  if (action === 'resume' && existsSync(envFile)) {
    const record = JSON.parse(readFileSync(envFile, 'utf8')) as EnvRecord;
    record.scheduler = withAttempt(record.scheduler, attempt);
    await writeFileAtomic(envFile, JSON.stringify(record, null, 2) + '\n');
  }
  log(action === 'resume' ? `resuming from ${path.join(run.dir, 'checkpoints', 'last.ckpt')}` : 'starting fresh');
  const threads = threadsFromAllocation(env);
  const child = spawn(process.execPath, [VDS_BIN, ...trainArgs(action, run, run.config)], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      ...env,
      ...(threads ? { VDS_THREADS: threads } : {}),
      // tfjs-node-gpu: take GPU memory as needed, not all of it at start (a GPU may be shared)
      TF_FORCE_GPU_ALLOW_GROWTH: env.TF_FORCE_GPU_ALLOW_GROWTH ?? 'true',
      [SCHEDULER_ENV]: JSON.stringify(withAttempt(undefined, attempt)),
      VDS_SWEEP_PARENT: String(process.pid), // vds train stops (with a checkpoint) if this process dies
    },
  });
  started(child);
  return new Promise((resolve) => {
    child.on('error', () => resolve(1));
    // killed by a signal before it could checkpoint: still an interruption, the last checkpoint stands
    child.on('close', (c, signal) => resolve(c ?? (signal ? 130 : 1)));
  });
}

/**
 * Requeues unless the job was cancelled. A time-limit warning (USR1) or a preemption's grace-time SIGTERM
 * comes while the job is RUNNING; the time limit itself sends SIGTERM with the job COMPLETING for reason
 * TimeLimit (measured on Slurm 22.05), a cancel with reason None — and Slurm would accept a requeue of either.
 */
async function requeueUnlessCancelled(slurmJobId: string, stop: 'USR1' | 'SIGTERM', stateAtTerm: ReturnType<typeof jobState> | null): Promise<number> {
  const term = stop === 'SIGTERM' ? await stateAtTerm : null;
  const timeLimit = term?.reason === 'TimeLimit';
  const atTerm = stop === 'SIGTERM' ? term?.state : 'RUNNING';
  const now = await jobState(slurmJobId);
  const nowOk = now?.state === 'RUNNING' || (timeLimit && now?.state === 'COMPLETING');
  if (!timeLimit && (atTerm !== 'RUNNING' || !nowOk)) {
    log(`the job is ending (${atTerm !== 'RUNNING' ? atTerm : now?.state}, reason ${term?.reason ?? now?.reason}: cancelled): not requeued; the checkpoint stays and \`vds sweep\` submits the run again`);
    return 130;
  }
  if (timeLimit && !nowOk) {
    log(`the job reached its time limit and is already ${now?.state ?? 'gone'}: not requeued; the checkpoint stays and \`vds sweep\` submits the run again`);
    return 130;
  }
  if (timeLimit) log('the time limit was reached without a warning (set slurm.signalBefore to checkpoint ahead of it); the checkpoint is written');
  // said before asking: once Slurm takes the requeue it ends this task, and a line written after may be lost
  log(`checkpoint written; requeueing job ${slurmJobId}: the next start resumes from it`);
  try {
    await requeue(slurmJobId);
  } catch (e) {
    log(`could not requeue: ${(e as Error).message}`);
    return 130;
  }
  return 0;
}

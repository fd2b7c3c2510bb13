// What a queued run is: its BullMQ job id, the data a worker needs to train it, and the retry and stall
// settings (every default once, with its reason).
import { createHash } from 'node:crypto';
import path from 'node:path';
import { VdsError } from '../util/errors.ts';
import { redisUrl } from './redis.ts';

export const QUEUE_DEFAULTS = {
  queue: 'vds', // one queue per Redis unless --queue says otherwise: a worker serves every sweep sent to it
  attempts: 3, // a crash (killed child, wasm abort, lost GPU) is retried twice, each time from the checkpoint
  backoffSeconds: 30, // exponential (30 s, 60 s, …): a machine that just crashed a run gets time to recover
  // A worker renews its jobs' locks every lockDuration / 2 from its own event loop, which training never
  // blocks (each run is a child process); a dead worker's job is taken over within lockDuration +
  // stalledInterval (~1 min). Shorter means faster takeover but more Redis traffic and more false stalls
  // on a machine under load; longer hides dead machines for longer.
  lockSeconds: 30,
  stalledSeconds: 30,
  // BullMQ's default of 1 fails a job the second time its worker disappears. On preemptible machines a
  // long run may be preempted many times, and each time it resumes from its checkpoint (at most an epoch
  // lost), so allow many; the bound stops a run that takes down every machine it lands on.
  maxStalled: 20,
} as const;

/** What `vds sweep --launcher queue` takes from its flags (unset: QUEUE_DEFAULTS). */
export interface QueueSendFlags {
  redis?: string;
  queue?: string;
  attempts?: number;
  backoff?: number; // seconds
}

/** The job name; the data says which run. */
export const TRAIN_JOB = 'train';

/** Everything a worker needs, all paths absolute on the shared storage every worker sees. */
export interface QueuedRun {
  kind: 'vds-run';
  runId: string;
  sweep: string; // the sweep's name
  sweepDir: string;
  dir: string; // the run directory
  configFile: string; // the run's resolved config, written by the sender
  log: string; // appended to by every attempt
  vdsVersion: string; // of the sender; a worker of another version warns
}

export function isQueuedRun(x: unknown): x is QueuedRun {
  const r = x as Partial<QueuedRun> | null;
  return !!r && r.kind === 'vds-run' && typeof r.runId === 'string' && typeof r.dir === 'string' && typeof r.configFile === 'string';
}

/**
 * The run id, plus a hash of where the run lives: the same grid sent from two results directories is two
 * sets of runs. Stable, so sending a sweep again finds its jobs instead of duplicating them. BullMQ refuses
 * ids that are plain integers or contain ':' (its key separator); run ids start with the dataset's name.
 */
export function jobIdFor(runId: string, runDir: string): string {
  const where = createHash('sha256').update(path.resolve(runDir)).digest('hex').slice(0, 8);
  const id = `${runId}.${where}`;
  if (id.includes(':') || /^\d+$/.test(id)) throw new Error(`run id ${JSON.stringify(runId)} cannot be a BullMQ job id`);
  return id;
}

/** Set by `vds sweep cancel` for every job of a sweep; the worker holding one stops it. */
export const cancelKey = (queue: string, jobId: string): string => `vds:cancel:${queue}:${jobId}`;
export const CANCEL_TTL_SECONDS = 7 * 24 * 3600; // longer than any job waits; sending the sweep again clears it
/** The failed reason of a cancelled job, on its way out of the queue. */
export const CANCELLED = 'cancelled by vds sweep cancel';

/** A queue name becomes part of Redis keys: keep it to characters that need no quoting. */
export function checkQueueName(name: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new VdsError(`expected a name of letters, digits, ".", "_" or "-", got ${JSON.stringify(name)}`, { key: '--queue' });
  return name;
}

export interface QueueSettings {
  redis: string;
  queue: string;
  attempts: number;
  backoffSeconds: number;
}

/** The flags of `vds sweep --launcher queue`, checked, with the defaults filled in. */
export function resolveQueueSettings(f: QueueSendFlags, jobs?: number): QueueSettings {
  if (jobs !== undefined) {
    throw new VdsError('--jobs does not apply to --launcher queue', { key: '--jobs', hint: 'each `vds worker --concurrency N` decides how many runs it trains at once' });
  }
  const attempts = f.attempts ?? QUEUE_DEFAULTS.attempts;
  if (!Number.isInteger(attempts) || attempts < 1) throw new VdsError(`expected a whole number ≥ 1, got ${attempts}`, { key: '--attempts' });
  const backoffSeconds = f.backoff ?? QUEUE_DEFAULTS.backoffSeconds;
  if (!(Number.isFinite(backoffSeconds) && backoffSeconds >= 0)) throw new VdsError(`expected a number of seconds ≥ 0, got ${backoffSeconds}`, { key: '--backoff' });
  return { redis: redisUrl(f.redis), queue: checkQueueName(f.queue ?? QUEUE_DEFAULTS.queue), attempts, backoffSeconds };
}

// The queue's part of `vds sweep status` and `vds sweep cancel`: each run's job (state, attempts, the
// worker holding it), the queue's counts and workers; and stopping a sweep's jobs: waiting ones are
// removed, running ones are marked so that their worker checkpoints them and drops them from the queue.
import { Queue, type Job, type JobState } from 'bullmq';
import type { Redis } from 'ioredis';
import type { QueueRecord } from '../sweep/manifest.ts';
import { CANCELLED, CANCEL_TTL_SECONDS, cancelKey } from './jobs.ts';
import { REDIS_ENV, connectRedis, redactUrl, redisUrl } from './redis.ts';
import { VdsError } from '../util/errors.ts';

export interface QueueJobView {
  id: string;
  state: JobState; // BullMQ's word: waiting, active, delayed (a retry, later), completed, failed, prioritized
  queued: boolean; // waiting, running or due again: sending the sweep again leaves it alone
  running: boolean;
  attempt: number; // the attempt it is on (or ended with)
  attempts: number; // the most it gets
  starts: number; // times a worker took it: attempts, plus returns (worker stopped) and stalls (worker died)
  stalls: number;
  worker: string | null; // the worker that holds it (active) or last held it
  failedReason: string | null;
}

export interface QueueView {
  queue: string;
  redis: string;
  counts: Record<string, number>; // the sweep's jobs by state, plus 'not in the queue'
  workers: string[]; // workers connected to the queue now (any sweep's)
  jobs: Map<string, QueueJobView>; // by run id
}

const QUEUED: JobState[] = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children'];
const REMOVABLE: JobState[] = ['waiting', 'delayed', 'prioritized'];

/** The Redis a sweep was sent to; $VDS_REDIS_URL supplies the password that sweep.json leaves out. */
function urlOf(record: QueueRecord): string {
  if (!record.passwordOmitted) return record.redis;
  if (!process.env[REDIS_ENV]) {
    throw new VdsError(`the sweep's Redis (${record.redis}) needs a password, which vds does not write into sweep.json`, { key: REDIS_ENV, hint: `set ${REDIS_ENV}=redis://:PASSWORD@host:port` });
  }
  return redisUrl(undefined);
}

async function withQueue<T>(record: QueueRecord, f: (q: Queue, client: Redis) => Promise<T>): Promise<T> {
  const client = await connectRedis(urlOf(record), 'command');
  const queue = new Queue(record.queue, { connection: client });
  try {
    return await f(queue, client);
  } finally {
    await queue.close();
    client.disconnect();
  }
}

function viewOf(job: Job, state: JobState): QueueJobView {
  const attempts = job.opts.attempts ?? 1;
  // attemptsMade counts finished attempts (a completed one too); a queued job is on the next one
  const attempt = state === 'completed' || state === 'failed' ? Math.max(1, job.attemptsMade) : job.attemptsMade + 1;
  return {
    id: job.id!,
    state,
    queued: QUEUED.includes(state),
    running: state === 'active',
    attempt,
    attempts,
    starts: job.attemptsStarted ?? 0,
    stalls: job.stalledCounter ?? 0,
    worker: job.processedBy ?? null,
    failedReason: job.failedReason || null,
  };
}

export async function queueView(record: QueueRecord): Promise<QueueView> {
  return withQueue(record, async (queue) => {
    const jobs = new Map<string, QueueJobView>();
    const counts: Record<string, number> = {};
    for (const [runId, id] of Object.entries(record.jobs)) {
      const job = await queue.getJob(id);
      const state = job ? await job.getState() : 'unknown';
      if (!job || state === 'unknown') {
        counts['not in the queue'] = (counts['not in the queue'] ?? 0) + 1;
        continue;
      }
      counts[state] = (counts[state] ?? 0) + 1;
      jobs.set(runId, viewOf(job, state));
    }
    // BullMQ names each worker's connection …:w:<worker name>
    const workers = (await queue.getWorkers()).map((w) => String(w.rawname ?? w.name ?? '').split(':w:')[1] ?? '').filter(Boolean);
    return { queue: record.queue, redis: record.redis, counts, workers: [...new Set(workers)].sort(), jobs };
  });
}

/** One line: where the queue is, the sweep's jobs by state, and who is working. */
export function queueSummary(v: QueueView): string {
  const order = ['active', 'waiting', 'prioritized', 'delayed', 'completed', 'failed', 'not in the queue'];
  const counts = Object.entries(v.counts).sort(([a], [b]) => order.indexOf(a) - order.indexOf(b)).map(([s, n]) => `${n} ${s}`);
  const workers = v.workers.length ? `${v.workers.length} worker(s) connected: ${v.workers.join(', ')}` : 'no worker connected';
  return `queue "${v.queue}" at ${redactUrl(v.redis)}: ${counts.join(', ') || 'no jobs'}; ${workers}`;
}

/** The reason column of the status table: attempts and who holds it. */
export function jobNote(j: QueueJobView): string {
  const parts = [`attempt ${j.attempt} of ${j.attempts}`];
  if (j.stalls) parts.push(`${j.stalls} stall(s)`);
  if (j.worker && (j.running || j.state === 'completed')) parts.push(`${j.running ? 'held by' : 'by'} ${j.worker}`);
  // a failed job's reason is the run's note; a retry's is worth showing beside it
  if (j.failedReason && j.state !== 'failed' && !j.running && j.state !== 'completed') parts.push(`after: ${j.failedReason}`);
  return parts.join('; ');
}

const POLL_MS = 500;
const CANCEL_WAIT_MS = 120_000; // workers look for the mark every second; a checkpoint takes one step

/** Removes the sweep's waiting jobs and stops its running ones; returns how many of each. */
export async function cancelQueue(record: QueueRecord, log: (m: string) => void): Promise<{ removed: number; stopped: number }> {
  return withQueue(record, async (queue, client) => {
    const ids = Object.values(record.jobs);
    // mark first: a worker that takes one of these jobs a moment from now drops it instead of training it
    const marks = client.multi();
    for (const id of ids) marks.set(cancelKey(record.queue, id), '1', 'EX', CANCEL_TTL_SECONDS);
    await marks.exec();
    let removed = 0;
    const running = new Set<string>();
    // still on its way out: running, or failed as cancelled by its worker but not yet removed
    const leaving = async (id: string): Promise<boolean> => {
      const job = await queue.getJob(id);
      const state = job ? await job.getState() : 'unknown';
      if (state === 'active') return true;
      if (state === 'failed' && job!.failedReason === CANCELLED) return !(await remove(id));
      return false;
    };
    const remove = async (id: string): Promise<boolean> => {
      try {
        await queue.remove(id);
        return true;
      } catch {
        return false; // a worker took it in between: it will see the mark
      }
    };
    // a job whose worker died comes back as waiting after the stall check: each round removes those too
    const sweepUp = async (): Promise<void> => {
      for (const id of ids) {
        const state = await queue.getJobState(id);
        if (state === 'active') running.add(id);
        else if (REMOVABLE.includes(state as JobState)) {
          if (await remove(id)) {
            if (!running.has(id)) removed++;
          } else running.add(id);
        }
      }
    };
    await sweepUp();
    if (running.size) log(`asked the workers of ${running.size} running job(s) to checkpoint and let go`);
    const t0 = Date.now();
    let still = running.size;
    while (still && Date.now() - t0 < CANCEL_WAIT_MS) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      await sweepUp();
      still = (await Promise.all([...running].map(leaving))).filter(Boolean).length;
    }
    if (still) log(`${still} job(s) still running after ${CANCEL_WAIT_MS / 1000} s; their workers drop them when they next look`);
    if (removed) log(`removed ${removed} waiting job(s) from the queue`);
    return { removed, stopped: running.size - still };
  });
}

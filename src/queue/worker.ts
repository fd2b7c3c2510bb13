// `vds worker`: takes runs from the queue, N at a time, until it is stopped. SIGTERM or Ctrl-C asks each
// running child to checkpoint, puts its job back in the queue and exits; a second signal aborts at once
// (the jobs stall and are taken over). A dropped Redis connection stops the children the same way, since
// once the locks lapse another worker may take their runs; the connection then comes back by itself.
import os from 'node:os';
import { Worker, type Job } from 'bullmq';
import { VdsError } from '../util/errors.ts';
import { cancelKey, type QueuedRun } from './jobs.ts';
import { processJob, type ActiveRun, type JobResult, type StopReason, type WorkerContext } from './process-job.ts';
import { connectRedis, redactUrl } from './redis.ts';

export interface WorkerSettings {
  redis: string;
  queue: string;
  concurrency: number;
  devices: (string | null)[]; // one per slot
  webgpuAdapters?: string[] | null; // VDS_WEBGPU_ADAPTER per slot, for runs on the webgpu backend (tf/webgpu.ts)
  lockSeconds: number;
  stalledSeconds: number;
  maxStalled: number;
}

export interface WorkerSummary {
  finished: number;
  failed: number;
  returned: number;
}

const CANCEL_POLL_MS = 1000; // how soon a cancelled run stops
const ERROR_REPEAT_MS = 10_000; // the same connection error, logged at most this often

export async function runWorker(s: WorkerSettings, log: (m: string) => void): Promise<WorkerSummary> {
  const name = `${os.hostname()}/${process.pid}`; // BullMQ stores it on each job it takes: "held by"
  const lastLogged = new Map<string, number>();
  const logError = (e: Error): void => {
    const now = Date.now();
    if (now - (lastLogged.get(e.message) ?? 0) < ERROR_REPEAT_MS) return;
    lastLogged.set(e.message, now);
    log(`redis: ${e.message}`);
  };
  const client = await connectRedis(s.redis, 'worker', { name: `vds-worker/${name}`, onError: logError });
  const active = new Map<string, ActiveRun>();
  const summary: WorkerSummary = { finished: 0, failed: 0, returned: 0 };
  let stopping = false;
  let fatal: VdsError | null = null;
  let worker: Worker<QueuedRun, JobResult> | null = null;

  const stopChildren = (reason: StopReason, ids: Iterable<string> = active.keys()): void => {
    for (const id of ids) {
      const a = active.get(id);
      if (!a || a.stop) continue;
      a.stop = reason;
      a.child.kill('SIGTERM'); // vds train finishes its step, checkpoints, exits 130
    }
  };
  const shutdown = (why: string): void => {
    if (stopping) return;
    stopping = true;
    log(`${why}: asking ${active.size} running run(s) to checkpoint, then leaving`);
    stopChildren('shutdown');
    void worker?.close();
  };
  const ctx: WorkerContext = {
    name,
    queue: s.queue,
    client,
    concurrency: s.concurrency,
    freeSlots: s.devices.map((device, index) => ({ index, device, webgpuAdapter: s.webgpuAdapters?.[index] ?? null })).reverse(),
    active,
    stopping: () => stopping,
    refuse(message, sweepDir) {
      fatal ??= new VdsError(`cannot reach the sweep's results directory from this machine: ${message}`, {
        file: sweepDir,
        hint: 'every worker must see the run directories at the same path (shared storage); the job is back in the queue for another worker',
      });
      shutdown('refusing the sweep');
    },
    log,
    tally: (what) => summary[what]++,
  };

  // Ctrl-C or SIGTERM: leave cleanly; a second one: abort (the children die, their jobs stall)
  let abort: () => void = () => undefined;
  let aborted = false;
  const abortedP = new Promise<void>((r) => (abort = r));
  const onSignal = (signal: string): void => {
    if (!stopping) return shutdown(signal);
    log(`${signal} again: aborting; the running jobs will stall and be taken over`);
    aborted = true;
    for (const a of active.values()) a.child.kill('SIGKILL');
    abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let disconnected = false;
  client.on('close', () => {
    if (disconnected || stopping) return;
    disconnected = true;
    if (active.size) log(`lost the connection to Redis: checkpointing ${active.size} running run(s) so that no two workers train one run`);
    stopChildren('disconnected');
  });
  client.on('ready', () => {
    if (disconnected) log('reconnected to Redis');
    disconnected = false;
  });
  // ask Redis whether `vds sweep cancel` has marked any running job
  let polling = false;
  const cancelPoll = setInterval(() => {
    if (polling || client.status !== 'ready' || active.size === 0) return;
    polling = true;
    const ids = [...active.keys()];
    Promise.all(ids.map((id) => client.exists(cancelKey(s.queue, id))))
      .then((marked) => stopChildren('cancelled', ids.filter((_, i) => marked[i])))
      .catch(() => undefined)
      .finally(() => (polling = false));
  }, CANCEL_POLL_MS);

  try {
    worker = new Worker<QueuedRun, JobResult>(s.queue, (job: Job<QueuedRun>, token?: string) => processJob(ctx, job, token!), {
      connection: client,
      name,
      autorun: false,
      concurrency: s.concurrency,
      lockDuration: s.lockSeconds * 1000,
      stalledInterval: s.stalledSeconds * 1000,
      maxStalledCount: s.maxStalled,
    });
    worker.on('error', logError);
    worker.on('lockRenewalFailed', (ids: string[]) => {
      log(`lost the lock of ${ids.length} job(s) (Redis unreachable for too long?): stopping their runs, which other workers may now have`);
      stopChildren('lock-lost', ids);
    });
    worker.on('stalled', (id: string) => log(`job ${id} stalled (its worker vanished): back in the queue`));
    const devices = s.devices.some(Boolean) ? `, GPUs ${s.devices.join(', ')}` : '';
    log(
      `worker ${name}: queue "${s.queue}" at ${redactUrl(s.redis)}, ${s.concurrency} at a time${devices}; ` +
        `lock ${s.lockSeconds} s, stall check every ${s.stalledSeconds} s, up to ${s.maxStalled} stalls per job`,
    );
    await Promise.race([worker.run(), abortedP]);
  } finally {
    clearInterval(cancelPoll);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await worker?.close(true).catch(() => undefined);
    client.disconnect();
  }
  log(`stopped: ${summary.finished} finished, ${summary.failed} failed, ${summary.returned} returned to the queue`);
  if (fatal) throw fatal;
  if (aborted) throw new VdsError('aborted; the jobs it held go back to the queue when their locks expire', { exitCode: 130 });
  return summary;
}

// `vds worker --redis URL`: train runs from the queue on this machine until stopped (Ctrl-C / SIGTERM:
// the running runs checkpoint and go back to the queue). Start one on every machine that should help.
import { QUEUE_DEFAULTS, checkQueueName } from '../queue/jobs.ts';
import { planSlots, visibleGpus } from '../queue/devices.ts';
import { adaptersForSlots } from '../tf/webgpu.ts';
import { redisUrl } from '../queue/redis.ts';
import { runWorker } from '../queue/worker.ts';
import { resolveThreads } from '../train/parallelism.ts';
import { VdsError } from '../util/errors.ts';
import { defaultJobs } from './sweep.ts';

export interface WorkerOptions {
  redis?: string;
  queue?: string;
  concurrency?: number;
  lockDuration?: number; // seconds
  stalledInterval?: number; // seconds
  maxStalled?: number;
}

function positiveSeconds(v: number | undefined, flag: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (!(Number.isFinite(v) && v > 0)) throw new VdsError(`expected a number of seconds > 0, got ${v}`, { key: flag });
  return v;
}

export async function workerCommand(o: WorkerOptions): Promise<void> {
  const redis = redisUrl(o.redis);
  const queue = checkQueueName(o.queue ?? QUEUE_DEFAULTS.queue);
  const lockSeconds = positiveSeconds(o.lockDuration, '--lock-duration', QUEUE_DEFAULTS.lockSeconds);
  const stalledSeconds = positiveSeconds(o.stalledInterval, '--stalled-interval', QUEUE_DEFAULTS.stalledSeconds);
  const maxStalled = o.maxStalled ?? QUEUE_DEFAULTS.maxStalled;
  if (process.env.VDS_THREADS) resolveThreads(); // a bad value fails here, not in every child
  // on a CPU-only machine, as many at once as `vds sweep` would run here
  const slots = planSlots(visibleGpus(), o.concurrency, defaultJobs('auto'));
  const log = (m: string) => process.stderr.write(`[worker] ${m}\n`);
  let webgpuAdapters: string[] | null = null;
  if (slots.devices.filter(Boolean).length > 1) {
    const plan = await adaptersForSlots(slots.concurrency);
    webgpuAdapters = plan.adapters;
    log(plan.note);
  }
  await runWorker({ redis, queue, concurrency: slots.concurrency, devices: slots.devices, webgpuAdapters, lockSeconds, stalledSeconds, maxStalled }, log);
}

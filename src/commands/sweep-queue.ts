// `vds sweep --launcher queue`: send the sweep's runs to the Redis queue and return; `vds worker` on any
// machine trains them, `vds sweep status DIR` follows them.
import { sendSweep } from '../queue/enqueue.ts';
import { QUEUE_DEFAULTS, checkQueueName, type QueueSendFlags } from '../queue/jobs.ts';
import { redactUrl, redisUrl } from '../queue/redis.ts';
import type { PlannedRun } from '../sweep/plan.ts';
import type { SweepSpec } from '../sweep/spec.ts';
import { VdsError } from '../util/errors.ts';

export async function sendToQueue(
  spec: SweepSpec,
  runs: PlannedRun[],
  sweepDir: string,
  o: QueueSendFlags & { jobs?: number; retryFailed: boolean },
): Promise<void> {
  if (o.jobs !== undefined) {
    throw new VdsError('--jobs does not apply to --launcher queue', { key: '--jobs', hint: 'each `vds worker --concurrency N` decides how many runs it trains at once' });
  }
  const attempts = o.attempts ?? QUEUE_DEFAULTS.attempts;
  if (!Number.isInteger(attempts) || attempts < 1) throw new VdsError(`expected a whole number ≥ 1, got ${attempts}`, { key: '--attempts' });
  const backoffSeconds = o.backoff ?? QUEUE_DEFAULTS.backoffSeconds;
  if (!(Number.isFinite(backoffSeconds) && backoffSeconds >= 0)) throw new VdsError(`expected a number of seconds ≥ 0, got ${backoffSeconds}`, { key: '--backoff' });
  const redis = redisUrl(o.redis);
  const queue = checkQueueName(o.queue ?? QUEUE_DEFAULTS.queue);
  const log = (m: string) => process.stderr.write(`[sweep ${spec.name}] ${m}\n`);
  const c = await sendSweep(runs, { sweepName: spec.name, sweepFile: spec.file, sweepDir, redis, queue, attempts, backoffSeconds, retryFailed: o.retryFailed }, log);
  if (c.added + c.retried + c.queued > 0) {
    const flag = queue === QUEUE_DEFAULTS.queue ? '' : ` --queue ${queue}`;
    log(`train them with \`vds worker --redis ${redactUrl(redis)}${flag}\` on each machine; follow with \`vds sweep status ${sweepDir}\``);
  }
  process.stdout.write(sweepDir + '\n');
}

// `vds sweep --launcher queue`: every run of the sweep that is not finished becomes a BullMQ job whose id
// derives from the run, so sending the same sweep again adds nothing that is already queued. The sweep
// directory gets the manifest, each run's config and log path, and queue.json (where the jobs went).
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { Queue } from 'bullmq';
import { configToYaml } from '../config/index.ts';
import { manifestPath, manifestRun, writeManifest, type SweepManifest } from '../sweep/manifest.ts';
import type { PlannedRun } from '../sweep/plan.ts';
import { actionFor } from '../sweep/runner.ts';
import { writeFileAtomic } from '../util/fsx.ts';
import { VDS_VERSION } from '../util/version.ts';
import { TRAIN_JOB, cancelKey, jobIdFor, writeQueueRecord, type QueuedRun } from './jobs.ts';
import { connectRedis, hasPassword, redactUrl } from './redis.ts';

export interface SendOptions {
  sweepName: string;
  sweepFile: string;
  sweepDir: string;
  redis: string;
  queue: string;
  attempts: number;
  backoffSeconds: number;
  retryFailed: boolean; // failed jobs go back to the queue with their attempts reset
}

export interface SendCounts {
  added: number; // new jobs (including runs whose earlier job had completed but whose directory has no result)
  queued: number; // already waiting, running or due for a retry: left alone
  finished: number; // the run directory holds a finished run: nothing to do
  failed: number; // failed earlier and left failed (no --retry-failed)
  retried: number; // failed earlier, back in the queue
}

export async function sendSweep(runs: PlannedRun[], o: SendOptions, log: (m: string) => void): Promise<SendCounts> {
  const client = await connectRedis(o.redis, 'command');
  const queue = new Queue<QueuedRun>(o.queue, { connection: client });
  const counts: SendCounts = { added: 0, queued: 0, finished: 0, failed: 0, retried: 0 };
  const manifest: SweepManifest = {
    name: o.sweepName,
    sweepFile: path.resolve(o.sweepFile),
    vdsVersion: VDS_VERSION,
    updatedAt: '',
    jobs: 0, // how many run at once is each worker's --concurrency
    wallSeconds: null,
    runs: runs.map((r) => manifestRun(r, o.sweepDir)),
  };
  const jobs: Record<string, string> = {};
  try {
    mkdirSync(path.join(o.sweepDir, 'logs'), { recursive: true });
    for (const [i, r] of runs.entries()) {
      const id = jobIdFor(r.id, r.dir);
      jobs[r.id] = id;
      if (actionFor(r) === 'skip') {
        manifest.runs[i].state = 'finished';
        counts.finished++;
        continue;
      }
      const configFile = path.join(o.sweepDir, 'configs', `${r.id}.yaml`);
      await writeFileAtomic(configFile, configToYaml(r.config));
      const state = await queue.getJobState(id);
      if (state === 'failed' && !o.retryFailed) {
        manifest.runs[i].state = 'failed';
        counts.failed++;
        continue;
      }
      if (state === 'failed') {
        await client.del(cancelKey(o.queue, id));
        await (await queue.getJob(id))!.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
        counts.retried++;
        continue;
      }
      if (state !== 'unknown' && state !== 'completed') {
        counts.queued++;
        continue;
      }
      // a completed job whose run has no result (its directory was deleted): the run is to be done again
      if (state === 'completed') await queue.remove(id);
      await client.del(cancelKey(o.queue, id));
      const data: QueuedRun = { kind: 'vds-run', runId: r.id, sweep: o.sweepName, sweepDir: o.sweepDir, dir: r.dir, configFile, log: manifest.runs[i].log, vdsVersion: VDS_VERSION };
      // a job with an existing id is not added twice: the id is what makes sending again a no-op
      await queue.add(TRAIN_JOB, data, {
        jobId: id,
        attempts: o.attempts,
        backoff: { type: 'exponential', delay: o.backoffSeconds * 1000 },
        removeOnComplete: false, // kept: status shows them, and sending again must find them
        removeOnFail: false,
      });
      counts.added++;
    }
    await writeManifest(o.sweepDir, manifest);
    await writeQueueRecord(o.sweepDir, {
      redis: redactUrl(o.redis),
      passwordOmitted: hasPassword(o.redis),
      queue: o.queue,
      sentAt: new Date().toISOString(),
      jobs,
    });
  } finally {
    await queue.close();
    client.disconnect();
  }
  log(
    `${runs.length} runs: ${counts.added} queued, ${counts.queued} already in the queue, ${counts.finished} finished` +
      (counts.retried ? `, ${counts.retried} failed ones queued again` : '') +
      (counts.failed ? `, ${counts.failed} failed (left failed; --retry-failed queues them again)` : '') +
      `; queue "${o.queue}" at ${redactUrl(o.redis)}; manifest ${manifestPath(o.sweepDir)}`,
  );
  return counts;
}

// Sending a sweep to the queue: every run that still needs training becomes a BullMQ job whose id
// derives from the run, so sending the same sweep again adds nothing that is already queued. The sweep
// directory gets each run's config and the manifest's queue record (where the jobs went).
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { Queue, type JobState } from 'bullmq';
import { configToYaml } from '../config/index.ts';
import type { LaunchOptions, SweepPlan } from '../sweep/launcher.ts';
import { writeManifest, type SweepManifest } from '../sweep/manifest.ts';
import { actionFor, sweepConfigFile } from '../sweep/runner.ts';
import { writeFileAtomic } from '../util/fsx.ts';
import { VDS_VERSION } from '../util/version.ts';
import { TRAIN_JOB, cancelKey, jobIdFor, type QueueSettings, type QueuedRun } from './jobs.ts';
import { connectRedis, hasPassword, redactUrl } from './redis.ts';

export interface SendCounts {
  added: number; // new jobs (including runs whose earlier job completed but whose directory has no result)
  queued: number; // already waiting, running or due for a retry: left alone
  finished: number; // the run directory holds a finished run: nothing to do
  failed: number; // failed earlier and left failed (no --retry-failed)
  retried: number; // failed earlier, back in the queue with fresh attempts
}

// a job in one of these states will still train its run (or does now)
const QUEUED: (JobState | 'unknown')[] = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children'];

export async function sendRuns(plan: SweepPlan, manifest: SweepManifest, s: QueueSettings, o: LaunchOptions): Promise<SendCounts> {
  const client = await connectRedis(s.redis, 'command');
  const queue = new Queue<QueuedRun>(s.queue, { connection: client });
  const counts: SendCounts = { added: 0, queued: 0, finished: 0, failed: 0, retried: 0 };
  const jobs: Record<string, string> = { ...(manifest.queue?.queue === s.queue ? manifest.queue.jobs : {}) };
  try {
    mkdirSync(path.join(plan.sweepDir, 'logs'), { recursive: true });
    for (const r of plan.runs) {
      const entry = manifest.runs.find((m) => m.id === r.id)!;
      const id = jobIdFor(r.id, r.dir);
      jobs[r.id] = id;
      const action = actionFor(r, o);
      if (action === 'skip') {
        entry.state = 'finished';
        counts.finished++;
        continue;
      }
      const state = await queue.getJobState(id);
      // a crashed run's status.json may say failed while its job waits for the retry: that is queued
      if (QUEUED.includes(state)) {
        entry.state = 'submitted';
        counts.queued++;
        continue;
      }
      if (action === 'failed' || (state === 'failed' && !o.retryFailed)) {
        entry.state = 'failed';
        counts.failed++;
        continue;
      }
      const configFile = sweepConfigFile(plan.sweepDir, r.id);
      await writeFileAtomic(configFile, configToYaml(r.config));
      await client.del(cancelKey(s.queue, id));
      entry.state = 'submitted';
      if (state === 'failed') {
        await (await queue.getJob(id))!.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
        counts.retried++;
        continue;
      }
      // a completed job whose run has no result (its directory was deleted): the run is to be done again
      if (state === 'completed') await queue.remove(id);
      const data: QueuedRun = { kind: 'vds-run', runId: r.id, sweep: plan.name, sweepDir: plan.sweepDir, dir: path.resolve(r.dir), configFile, log: entry.log, vdsVersion: VDS_VERSION };
      // BullMQ adds nothing for an id it already holds: the id is what makes sending again a no-op
      await queue.add(TRAIN_JOB, data, {
        jobId: id,
        attempts: s.attempts,
        backoff: { type: 'exponential', delay: s.backoffSeconds * 1000 },
        removeOnComplete: false, // kept: status shows them, and sending again must find them
        removeOnFail: false,
      });
      counts.added++;
    }
  } finally {
    await queue.close();
    client.disconnect();
  }
  manifest.queue = { redis: redactUrl(s.redis), passwordOmitted: hasPassword(s.redis), queue: s.queue, sentAt: new Date().toISOString(), jobs };
  await writeManifest(plan.sweepDir, manifest);
  return counts;
}

// The queue launcher: `vds sweep --launcher queue` sends the runs that still need training to a Redis
// queue and returns; `vds worker`s on any machine train them (worker.ts). `vds sweep status` shows each
// run's job (state, attempt, the worker holding it) and `vds sweep cancel` stops them (status.ts).
import type { Launcher, LaunchOptions, LaunchOutcome, LauncherJob, SweepPlan } from '../sweep/launcher.ts';
import type { SweepManifest } from '../sweep/manifest.ts';
import { actionFor } from '../sweep/runner.ts';
import { QUEUE_DEFAULTS, type QueueSettings } from './jobs.ts';
import { connectRedis, redactUrl } from './redis.ts';
import type { QueueView } from './status.ts';

// BullMQ is loaded only when a sweep uses the queue, not by every `vds sweep`
const enqueue = () => import('./enqueue.ts');
const status = () => import('./status.ts');

export class QueueLauncher implements Launcher {
  readonly name = 'queue' as const;
  private view: Promise<QueueView> | null = null; // one look at Redis serves jobs() and overview()

  constructor(private readonly settings: QueueSettings | null) {}

  async preflight(): Promise<void> {
    if (!this.settings) return;
    (await connectRedis(this.settings.redis, 'command')).disconnect();
  }

  async launch(plan: SweepPlan, manifest: SweepManifest, o: LaunchOptions): Promise<LaunchOutcome> {
    if (o.dryRun) {
      const lines = plan.runs.map((r) => `${actionFor(r, o).padEnd(6)} ${r.id}`);
      process.stdout.write(`${plan.runs.length} runs in ${plan.sweepDir} (to the queue)\n${lines.join('\n')}\n`);
      return { summary: 'dry run: nothing sent', failed: 0, interrupted: 0 };
    }
    const s = this.settings;
    if (!s) throw new Error('QueueLauncher.launch needs settings');
    const c = await (await enqueue()).sendRuns(plan, manifest, s, o);
    const where = `queue "${s.queue}" at ${redactUrl(s.redis)}`;
    if (c.added + c.retried + c.queued) {
      const flag = s.queue === QUEUE_DEFAULTS.queue ? '' : ` --queue ${s.queue}`;
      o.log(`\`vds worker --redis ${redactUrl(s.redis)}${flag}\` on each machine trains the queued runs; \`vds sweep status ${plan.sweepDir}\` follows them`);
    }
    const retried = c.retried ? `, ${c.retried} failed earlier and queued again` : '';
    const failed = c.failed ? `, ${c.failed} failed earlier (not retried; --retry-failed retries them)` : '';
    return {
      summary: `${plan.runs.length} runs: ${c.added} queued, ${c.queued} already in the queue, ${c.finished} finished${retried}${failed}; ${where}`,
      failed: 0, // sending did what it was asked; `vds sweep status` shows the runs' fate
      interrupted: 0,
    };
  }

  private look(manifest: SweepManifest): Promise<QueueView> | null {
    if (!manifest.queue) return null;
    const record = manifest.queue;
    return (this.view ??= status().then((m) => m.queueView(record)));
  }

  async jobs(_sweepDir: string, manifest: SweepManifest): Promise<Map<string, LauncherJob>> {
    const jobs = new Map<string, LauncherJob>();
    const view = await this.look(manifest);
    for (const [runId, j] of view?.jobs ?? []) {
      const failed = j.state === 'failed' && j.failedReason ? { failed: j.failedReason } : {};
      jobs.set(runId, { id: j.id, state: j.state, active: j.queued, running: j.running, reason: (await status()).jobNote(j), restarts: Math.max(0, j.starts - 1), ...failed });
    }
    return jobs;
  }

  async overview(_sweepDir: string, manifest: SweepManifest): Promise<string | null> {
    const view = await this.look(manifest);
    return view ? (await status()).queueSummary(view) : null;
  }

  async cancel(_sweepDir: string, manifest: SweepManifest, log: (m: string) => void): Promise<number> {
    if (!manifest.queue) return 0;
    const { removed, stopped } = await (await status()).cancelQueue(manifest.queue, log);
    return removed + stopped;
  }
}

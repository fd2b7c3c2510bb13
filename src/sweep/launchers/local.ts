// The local launcher: the runs as child processes of this `vds sweep`, N at a time (runner.ts). Its
// "scheduler view" is what this machine can see: which run directories a live process holds (run.lock),
// and which runs a live sweep process still has in its queue.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { alive, lockHolder, onThisHost } from '../../runs/lock.ts';
import type { Launcher, LaunchOptions, LaunchOutcome, LauncherJob, SweepPlan } from '../launcher.ts';
import { writeManifest, type SweepManifest } from '../manifest.ts';
import { actionFor, runSweep } from '../runner.ts';

/**
 * The recorded sweep process is still at work: alive, not a zombie (exited, its parent yet to reap it),
 * and still a `vds sweep` (a sweep killed with SIGKILL leaves its pid in the manifest, free for reuse).
 */
function stillRunning(pid: number): boolean {
  if (!alive(pid)) return false;
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0];
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return state !== 'Z' && argv.includes('sweep');
  } catch {
    return process.platform !== 'linux'; // no /proc (macOS): kill(pid, 0) is all there is
  }
}

/** The sweep process recorded in the manifest, if it is alive on this machine. */
function liveSweepPid(manifest: SweepManifest): number | null {
  const l = manifest.local;
  return l && l.host === os.hostname() && l.pid !== process.pid && stillRunning(l.pid) ? l.pid : null;
}

export class LocalLauncher implements Launcher {
  readonly name = 'local' as const;

  constructor(private readonly jobsAtOnce: number) {}

  async launch(plan: SweepPlan, manifest: SweepManifest, o: LaunchOptions): Promise<LaunchOutcome> {
    if (o.dryRun) {
      const lines = plan.runs.map((r) => `${actionFor(r, o).padEnd(6)} ${r.id}`);
      process.stdout.write(`${plan.runs.length} runs in ${plan.sweepDir} (${this.jobsAtOnce} at a time)\n${lines.join('\n')}\n`);
      return { summary: 'dry run: nothing started', failed: 0, interrupted: 0 };
    }
    o.log(`${plan.runs.length} runs, ${this.jobsAtOnce} at a time`);
    manifest.local = { pid: process.pid, host: os.hostname() };
    await writeManifest(plan.sweepDir, manifest);
    let c;
    try {
      c = await runSweep(plan.runs, manifest, plan.sweepDir, this.jobsAtOnce, { log: o.log }, { retryFailed: o.retryFailed });
    } finally {
      manifest.local = null;
      await writeManifest(plan.sweepDir, manifest);
    }
    const earlier = c.failedBefore ? `, ${c.failedBefore} failed earlier (not retried; --retry-failed retries them)` : '';
    return {
      summary: `done in ${manifest.wallSeconds?.toFixed(0)} s: ${c.finished} trained, ${c.skipped} already finished, ${c.failed} failed${earlier}, ${c.interrupted} interrupted`,
      failed: c.failed + c.failedBefore,
      interrupted: c.interrupted,
    };
  }

  async jobs(_sweepDir: string, manifest: SweepManifest): Promise<Map<string, LauncherJob>> {
    const jobs = new Map<string, LauncherJob>();
    const sweepPid = liveSweepPid(manifest);
    for (const r of manifest.runs) {
      const holder = lockHolder(r.dir);
      if (holder !== null) {
        const id = onThisHost(holder) ? `pid ${holder.pid}` : `pid ${holder.pid} on ${holder.host}`;
        jobs.set(r.id, { id, state: 'RUNNING', active: true, running: true });
      }
      else if (sweepPid !== null && r.state === 'pending') jobs.set(r.id, { id: `sweep pid ${sweepPid}`, state: 'QUEUED', active: true, running: false });
    }
    return jobs;
  }

  async cancel(_sweepDir: string, manifest: SweepManifest, log: (m: string) => void): Promise<number> {
    const pid = liveSweepPid(manifest);
    if (pid === null) return 0;
    const running = manifest.runs.filter((r) => lockHolder(r.dir) !== null).length;
    // the sweep's own SIGTERM handler asks its children to checkpoint, then it exits
    process.kill(pid, 'SIGTERM');
    log(`asked the sweep process ${pid} to stop; waiting for its ${running} running run(s) to checkpoint`);
    while (stillRunning(pid)) await new Promise((r) => setTimeout(r, 200));
    return running;
  }
}

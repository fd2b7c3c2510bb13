// Runs a sweep's runs, each as its own `vds train` process (a failure or leak in one cannot touch
// another), N at a time. Finished runs are skipped; runs with a checkpoint are resumed; the manifest
// records every state change. Stopping the sweep (SIGINT/SIGTERM) lets running children checkpoint.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, rmSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { configToYaml } from '../config/index.ts';
import { checkpointPath } from '../runs/execute.ts';
import { RUN_FILES } from '../runs/layout.ts';
import { readStatus } from '../runs/run-dir.ts';
import { writeFileAtomic } from '../util/fsx.ts';
import { writeManifest, type ManifestRun, type SweepManifest } from './manifest.ts';
import type { PlannedRun } from './plan.ts';

const VDS_BIN = fileURLToPath(new URL('../../bin/vds.mjs', import.meta.url));

export type RunAction = 'skip' | 'resume' | 'fresh';

/** What a (re)started sweep does with a run, from what its directory holds. */
export function actionFor(r: PlannedRun): RunAction {
  const status = readStatus(r.dir);
  if (status?.state === 'finished' && existsSync(path.join(r.dir, RUN_FILES.eval))) return 'skip';
  if (existsSync(checkpointPath(r.dir, 'last'))) return 'resume';
  return 'fresh';
}

/** wasm threads per child: the cores shared out among the runs that go at once. */
export function childThreads(jobs: number): number {
  return Math.max(1, Math.floor(availableParallelism() / Math.max(1, jobs)));
}

export interface RunnerEvents {
  log(message: string): void;
}

export async function runSweep(
  runs: PlannedRun[],
  manifest: SweepManifest,
  sweepDir: string,
  jobs: number,
  events: RunnerEvents,
): Promise<{ finished: number; failed: number; skipped: number; interrupted: number }> {
  const entries = new Map<string, ManifestRun>(manifest.runs.map((m) => [m.id, m]));
  const children = new Set<ChildProcess>();
  let stopping = false;
  const onSignal = (): void => {
    stopping = true;
    events.log(`stopping: asking ${children.size} running run(s) to checkpoint`);
    for (const c of children) c.kill('SIGTERM');
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const counts = { finished: 0, failed: 0, skipped: 0, interrupted: 0 };
  // workers finish concurrently: chain the manifest writes so they land in order
  let saving: Promise<void> = Promise.resolve();
  const save = (): Promise<void> => (saving = saving.then(() => writeManifest(sweepDir, manifest)));
  mkdirSync(path.join(sweepDir, 'logs'), { recursive: true });

  const runOne = async (r: PlannedRun): Promise<void> => {
    const entry = entries.get(r.id)!;
    const action = actionFor(r);
    if (action === 'skip') {
      entry.state = 'finished';
      counts.skipped++;
      return;
    }
    if (action === 'fresh' && existsSync(r.dir)) rmSync(r.dir, { recursive: true, force: true }); // no checkpoint: nothing to keep
    const cfgFile = path.join(sweepDir, 'configs', `${r.id}.yaml`);
    await writeFileAtomic(cfgFile, configToYaml(r.config));
    const args =
      action === 'resume'
        ? ['train', '--resume', r.dir, '--progress', 'plain']
        : ['train', '--config', cfgFile, '--run-id', r.id, '--progress', 'plain'];
    entry.state = 'running';
    entry.attempts++;
    await save();
    events.log(`${action === 'resume' ? 'resume' : 'start '} ${r.id}`);
    const t0 = Date.now();
    const log = createWriteStream(entry.log, { flags: 'a' });
    const child = spawn(process.execPath, [VDS_BIN, ...args], {
      env: { ...process.env, VDS_SWEEP_PARENT: String(process.pid), VDS_THREADS: process.env.VDS_THREADS || String(childThreads(jobs)) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    const code: number = await new Promise((resolve) => {
      child.on('error', () => resolve(1));
      child.on('close', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
    });
    children.delete(child);
    log.end();
    entry.exitCode = code;
    entry.seconds = (entry.seconds ?? 0) + (Date.now() - t0) / 1000;
    entry.state = code === 0 ? 'finished' : code === 130 || stopping ? 'interrupted' : 'failed';
    counts[entry.state === 'finished' ? 'finished' : entry.state === 'interrupted' ? 'interrupted' : 'failed']++;
    events.log(`${entry.state.padEnd(11)} ${r.id} (${Math.round((Date.now() - t0) / 1000)} s${code ? `, exit ${code}, log ${entry.log}` : ''})`);
    await save();
  };

  const queue = [...runs];
  const t0 = Date.now();
  const worker = async (): Promise<void> => {
    for (let r = queue.shift(); r && !stopping; r = queue.shift()) await runOne(r);
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, jobs) }, worker));
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  manifest.wallSeconds = (Date.now() - t0) / 1000;
  await save();
  return counts;
}

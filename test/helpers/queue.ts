// The queue tests' tools: the Redis that .ci/run starts (scripts/ci/redis-up.sh), `vds worker`
// processes that are always stopped, tiny spirals sweeps, waiting for a condition, and a run's numbers
// without its timings (what "the same result" means between two runs).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { VDS_BIN, type CliResult } from './cli.ts';
import { writeSpiralsSweep, type SpiralsSweep } from './spirals-sweep.ts';

/** Where the queue tests find Redis (.ci/run sets it). Unset, they are skipped on a developer's machine,
 * and fail where Redis is required (CI=1 or VDS_TEST_REQUIRE_REDIS=1). */
export const REDIS_URL = process.env.VDS_TEST_REDIS_URL;
const required = Boolean(process.env.CI) || process.env.VDS_TEST_REQUIRE_REDIS === '1';
export const skipWithoutRedis = REDIS_URL || required ? false : 'needs Redis: set VDS_TEST_REDIS_URL (scripts/ci/redis-up.sh DIR starts one)';
export function assertRedisGiven(): void {
  if (!REDIS_URL) throw new Error('these tests need Redis here: set VDS_TEST_REDIS_URL (scripts/ci/redis-up.sh DIR starts one)');
}

// one replica per run everywhere, so a run's numbers cannot depend on who trained it or how many at once
export const ENV = { VDS_THREADS: '1' };

let queues = 0;
/** A queue no other test (or earlier test run) uses. */
export const freshQueue = (what: string): string => `t-${what}-${process.pid}-${Date.now().toString(36)}-${queues++}`;

/** A tiny spirals sweep (one seed; depths 1 and 3 unless given). */
export const sweepFile = (dir: string, name: string, o: Omit<SpiralsSweep, 'seeds'>): string => writeSpiralsSweep(dir, name, name, { depths: [1, 3], ...o });

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  stderr(): string;
  done: Promise<CliResult>;
  stop(signal?: NodeJS.Signals): Promise<CliResult>;
}

const workers = new Set<WorkerProcess>();

export function startWorker(queue: string, args: string[] = [], url = REDIS_URL!): WorkerProcess {
  const child = spawn(process.execPath, [VDS_BIN, 'worker', '--redis', url, '--queue', queue, ...args], {
    env: { ...process.env, ...ENV },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  const w: WorkerProcess = {
    child,
    pid: child.pid!,
    stderr: () => stderr,
    done,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return done;
    },
  };
  workers.add(w);
  void done.then(() => workers.delete(w));
  return w;
}

/** For `after`: no worker outlives its test file, whatever failed (their children checkpoint and stop). */
export async function stopAllWorkers(): Promise<void> {
  await Promise.all([...workers].map((w) => w.stop('SIGKILL')));
}

export { waitFor } from './wait.ts';

export const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

export function statusOf(runDir: string): { state: string; epoch: number } | null {
  try {
    return readJson(path.join(runDir, 'status.json'));
  } catch {
    return null;
  }
}

/** eval.json and metrics.csv without wall-clock times: bit-for-bit what training computed. */
export function runNumbers(runDir: string): { eval: unknown; metrics: string[][] } {
  const { trainSeconds: _t, trainTiming: _tt, evalSeconds: _e, ...ev } = readJson(path.join(runDir, 'eval.json'));
  const rows = readFileSync(path.join(runDir, 'metrics.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
  const timeCols = new Set(['epoch_seconds', 'calibration_seconds'].map((c) => rows[0].indexOf(c)));
  return { eval: ev, metrics: rows.map((r) => r.filter((_, i) => !timeCols.has(i))) };
}

/** A client of the test Redis, for looking at jobs and cutting connections. */
export const redis = (): Redis => new Redis(REDIS_URL!, { maxRetriesPerRequest: 1 });

/** Cuts every connection of one worker process (its clients are named after its pid). */
export async function dropConnections(client: Redis, workerPid: number): Promise<number> {
  const list = (await client.client('LIST')) as string;
  const ids = list
    .split('\n')
    .filter((l) => new RegExp(`name=\\S*/${workerPid}(\\s|$)`).test(l))
    .map((l) => /(?:^|\s)id=(\d+)/.exec(l)?.[1])
    .filter((id): id is string => Boolean(id));
  for (const id of ids) await client.client('KILL', 'ID', id);
  return ids.length;
}

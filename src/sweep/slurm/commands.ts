// Slurm's own command-line clients (sbatch, squeue, scontrol, scancel), the only way vds talks to a
// cluster: they are on every login and compute node, and they read the cluster's configuration
// ($SLURM_CONF) for us. Nothing here needs accounting (sacct), which many clusters run without.
import { execFile } from 'node:child_process';
import { VdsError } from '../../util/errors.ts';

export type SlurmClient = 'sbatch' | 'squeue' | 'scontrol' | 'scancel';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: SlurmClient, args: string[], timeoutMs = 0): Promise<Result> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new VdsError(`${cmd} not found on PATH`, { key: '--launcher', hint: 'run vds on a machine with the Slurm client commands (a login node), or use --launcher local' }));
        return;
      }
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs a client and returns its stdout; a failure is a VdsError quoting Slurm's own message. */
async function ok(cmd: SlurmClient, args: string[]): Promise<string> {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new VdsError(`${cmd} ${args.join(' ')} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join('; ')}`, { exitCode: 1 });
  return r.stdout;
}

/** Whether the Slurm clients are installed here at all. */
export async function slurmAvailable(): Promise<boolean> {
  try {
    await run('scontrol', ['--version'], 5000); // installed is enough (it may hang on a missing slurm.conf)
    return true;
  } catch {
    return false;
  }
}

/**
 * Null when the controller answers; else why not. Without a reachable configuration or controller the
 * clients retry for a minute each, so the probe gives up after `seconds`.
 */
export async function controllerProblem(seconds = 10): Promise<string | null> {
  const r = await run('scontrol', ['ping'], seconds * 1000);
  if (r.code === 0 && /\bUP\b/.test(r.stdout)) return null;
  const said = (r.stderr || r.stdout).trim().split('\n').filter(Boolean).slice(-2).join('; ');
  return said ? `scontrol ping: ${said}` : `scontrol ping gave no answer within ${seconds} s`;
}

/** The cluster's MaxArraySize: array indices run from 0 to MaxArraySize − 1 (Slurm's default: 1001). */
export async function maxArraySize(): Promise<number> {
  const out = await ok('scontrol', ['show', 'config']);
  const m = /^MaxArraySize\s*=\s*(\d+)/m.exec(out);
  if (!m) throw new VdsError('`scontrol show config` did not report MaxArraySize', { exitCode: 1 });
  return Number(m[1]);
}

/** Submits a batch script; returns the job id (of the array). */
export async function sbatch(script: string): Promise<string> {
  const out = (await ok('sbatch', ['--parsable', script])).trim();
  const id = out.split(';')[0]; // "<id>" or "<id>;<cluster>"
  if (!/^\d+$/.test(id)) throw new VdsError(`sbatch answered "${out}" instead of a job id`, { file: script, exitCode: 1 });
  return id;
}

/** One array task (or job) as squeue lists it, one per line with `--array`. */
export interface QueuedTask {
  arrayJobId: string;
  taskId: number | null; // null for a job that is not part of an array
  state: string; // PENDING, RUNNING, COMPLETING, REQUEUED, SUSPENDED, ...
  reason: string;
  restarts: number;
  script: string; // the batch script it was submitted from
}

const QUEUE_FIELDS = ['ArrayJobID', 'ArrayTaskID', 'State', 'Reason', 'RestartCnt', 'Command'];

/** Parses `squeue --noheader --array --Format=<QUEUE_FIELDS, each with suffix "|">`. */
export function parseQueue(out: string): QueuedTask[] {
  const tasks: QueuedTask[] = [];
  for (const line of out.split('\n')) {
    if (!line.trim()) continue;
    const f = line.split('|').map((x) => x.trim());
    if (f.length < QUEUE_FIELDS.length) continue;
    const [arrayJobId, task, state, reason, restarts] = f;
    const script = f.slice(5, f.length - 1).join('|'); // the script path is last and may itself hold a "|"
    tasks.push({ arrayJobId, taskId: /^\d+$/.test(task) ? Number(task) : null, state, reason, restarts: Number(restarts) || 0, script });
  }
  return tasks;
}

/** Every queued or running task of the jobs with this name (squeue shows them until they end). */
export async function queue(jobName: string): Promise<QueuedTask[]> {
  const format = QUEUE_FIELDS.map((f) => `${f}:|`).join(',');
  return parseQueue(await ok('squeue', ['--noheader', '--array', `--name=${jobName}`, `--Format=${format}`]));
}

/** A job's state and restart count from `scontrol show job` (no accounting needed); null once it is gone. */
export async function jobState(jobId: string): Promise<{ state: string; reason: string; restarts: number } | null> {
  const r = await run('scontrol', ['--oneliner', 'show', 'job', jobId]);
  if (r.code !== 0) return null;
  const state = /\bJobState=(\S+)/.exec(r.stdout)?.[1];
  const reason = /\bReason=(\S+)/.exec(r.stdout)?.[1] ?? 'None';
  return state ? { state, reason, restarts: Number(/\bRestarts=(\d+)/.exec(r.stdout)?.[1] ?? 0) } : null;
}

/** Puts a job back in the queue; Slurm then stops what is left of it and starts it again later. */
export async function requeue(jobId: string): Promise<void> {
  await ok('scontrol', ['requeue', jobId]);
}

export async function scancel(jobIds: string[]): Promise<void> {
  if (jobIds.length) await ok('scancel', jobIds);
}

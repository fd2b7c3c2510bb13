// One attempt at a queued run: `vds train` (fresh or --resume) in a child process of the worker, so the
// worker's event loop, which renews the job's lock in Redis, never waits for tfjs. Output goes to the
// run's log on the shared storage; what the child's exit means for the job is decided here too.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, fstatSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { trainArgs, VDS_BIN } from '../sweep/runner.ts';
import { EXIT_BUSY } from '../util/errors.ts';
import type { QueuedRun } from './jobs.ts';
const STDERR_KEPT = 8192; // enough for the child's closing `error: …` lines

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  errorLines: string; // the child's `error: …` message (and hint), '' if none
  seconds: number;
}

export interface TrainingChild {
  child: ChildProcess;
  exited: Promise<ChildExit>;
}

export function startTraining(run: QueuedRun, action: 'fresh' | 'resume', env: NodeJS.ProcessEnv, header: string): TrainingChild {
  mkdirSync(path.dirname(run.log), { recursive: true });
  appendFileSync(run.log, `--- ${new Date().toISOString()} ${header}\n`);
  const from = statSync(run.log).size;
  // the child writes its log itself: if the worker is killed, the child's last words (its checkpoint)
  // still reach the file instead of a broken pipe
  const fd = openSync(run.log, 'a');
  const t0 = Date.now();
  let child: ChildProcess;
  try {
    // its own process group: a Ctrl-C at the worker's terminal reaches only the worker, which stops its
    // children with one SIGTERM each (two signals would abort the child without a checkpoint)
    // the vds (and node) that runs the worker trains the run
    child = spawn(process.execPath, [VDS_BIN, ...trainArgs(action, { id: run.runId, dir: run.dir }, run.configFile)], { env, stdio: ['ignore', fd, fd], detached: true });
  } finally {
    closeSync(fd); // the child has its own copy
  }
  const exited = new Promise<ChildExit>((resolve) => {
    let spawnError: Error | null = null;
    child.on('error', (e) => (spawnError = e));
    child.on('close', (code, signal) => {
      const seconds = (Date.now() - t0) / 1000;
      const errorLines = spawnError ? `could not start vds train: ${spawnError.message}` : errorMessage(tailOf(run.log, from));
      appendFileSync(run.log, `--- exit ${code ?? signal} after ${seconds.toFixed(1)} s\n`);
      resolve({ code: spawnError ? 1 : code, signal, errorLines, seconds });
    });
  });
  return { child, exited };
}

/** What the file gained since `from`, at most its last STDERR_KEPT bytes. */
function tailOf(file: string, from: number): string {
  const fd = openSync(file, 'r');
  try {
    const end = fstatSync(fd).size;
    const start = Math.max(from, end - STDERR_KEPT);
    const buf = Buffer.alloc(Math.max(0, end - start));
    readSync(fd, buf, 0, buf.length, start);
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** The last `error: …` line the CLI printed, with its hint. */
function errorMessage(stderr: string): string {
  const lines = stderr.split('\n');
  const at = lines.map((l) => l.startsWith('error: ')).lastIndexOf(true);
  if (at < 0) return '';
  const hint = lines[at + 1]?.startsWith('  hint: ') ? ` (${lines[at + 1].trim()})` : '';
  return lines[at].slice('error: '.length) + hint;
}

export type Outcome =
  | { kind: 'finished' }
  | { kind: 'stopped' } // the worker asked it to stop and it checkpointed (vds train exits 130)
  | { kind: 'bad-input'; reason: string } // vds train's exit code 2: the same input fails the same way again
  | { kind: 'busy'; reason: string } // the run directory is held by another process: later
  | { kind: 'crashed'; reason: string }; // anything else: worth another attempt, from the checkpoint

export function outcomeOf(e: ChildExit, stopRequested: boolean): Outcome {
  const said = e.errorLines ? `: ${e.errorLines}` : '';
  if (e.code === 0) return { kind: 'finished' };
  // 130: checkpointed; SIGTERM: stopped before it had set up its handler, so before it trained
  if (stopRequested && (e.code === 130 || e.signal === 'SIGTERM')) return { kind: 'stopped' };
  if (e.code === 2) return { kind: 'bad-input', reason: e.errorLines || 'vds train rejected its input (exit code 2)' };
  if (e.code === EXIT_BUSY) return { kind: 'busy', reason: e.errorLines };
  if (e.signal) return { kind: 'crashed', reason: `vds train was killed by ${e.signal}` };
  if (e.code === 130) return { kind: 'crashed', reason: `vds train was interrupted by a signal the worker did not send${said}` };
  return { kind: 'crashed', reason: `vds train exited with code ${e.code}${said}` };
}

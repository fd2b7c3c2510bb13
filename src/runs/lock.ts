// One process per run directory: a lock file holding the owner's pid and host, created exclusively. On the
// owner's machine, a lock whose process no longer exists (killed with SIGKILL) is taken over at once. A run
// directory on a shared filesystem can also be locked from another machine (queue workers on several
// hosts), whose processes this one cannot see: such a lock counts as held while its owner keeps touching
// it (a heartbeat, at least every HEARTBEAT_MS while it trains), and is taken over once it has not been
// touched for STALE_MS — longer than any training step, so a live owner is never mistaken for a dead one.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXIT_BUSY, VdsError } from '../util/errors.ts';

const LOCK = 'run.lock';
export const HEARTBEAT_MS = 30_000;
export const STALE_MS = 10 * 60_000;

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface LockOwner {
  pid: number;
  host: string;
  touchedMs: number; // the lock file's modification time: its owner's last heartbeat
}

/** The lock's owner as written ("<pid> <host>"; a lock written before hosts were recorded holds the pid alone). */
export function readLockOwner(runDir: string): LockOwner | null {
  const file = path.join(runDir, LOCK);
  let text: string;
  let touchedMs: number;
  try {
    text = readFileSync(file, 'utf8').trim();
    touchedMs = statSync(file).mtimeMs;
  } catch {
    return null;
  }
  const [pidText, ...host] = text.split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  return { pid, host: host.join(' ') || os.hostname(), touchedMs };
}

/** Whether the lock was taken on this machine (whose processes `alive` can see). */
export const onThisHost = (o: LockOwner): boolean => o.host === os.hostname();

/** Whether `o` still holds its lock: its process is alive (this machine) or its heartbeat is recent (another). */
function holds(o: LockOwner): boolean {
  return onThisHost(o) ? alive(o.pid) : Date.now() - o.touchedMs < STALE_MS;
}

export interface RunLock {
  /** Marks the lock as still held (for other machines); cheap, and at most once per HEARTBEAT_MS. */
  heartbeat(): void;
  release(): void;
}

export function acquireRunLock(runDir: string): RunLock {
  mkdirSync(runDir, { recursive: true });
  const file = path.join(runDir, LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, `${process.pid} ${os.hostname()}\n`);
      closeSync(fd);
      let last = Date.now();
      return {
        heartbeat: () => {
          const now = Date.now();
          if (now - last < HEARTBEAT_MS) return;
          last = now;
          try {
            utimesSync(file, now / 1000, now / 1000);
          } catch {
            // the lock is gone (removed by hand): nothing to keep fresh
          }
        },
        release: () => rmSync(file, { force: true }),
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = lockHolder(runDir);
      // this process's own pid on this machine: left by an earlier process that had the same pid (a container
      // restarted), not a holder
      if (owner && !(onThisHost(owner) && owner.pid === process.pid)) {
        const where = onThisHost(owner) ? '' : ` on ${owner.host} (its lock was refreshed ${Math.round((Date.now() - owner.touchedMs) / 1000)} s ago; one not refreshed for ${STALE_MS / 60_000} min is taken over)`;
        throw new VdsError(`the run is in use by process ${owner.pid}${where}`, { file: runDir, hint: 'wait for it to finish, or stop it first', exitCode: EXIT_BUSY });
      }
      rmSync(file, { force: true }); // stale: its owner is gone
    }
  }
  throw new VdsError('could not take the run lock', { file });
}

/**
 * Waits (up to `ms`) while a live process holds the run's lock, and returns the holder still there after
 * that, or null. For the moments when a process that is about to let go — the child of a killed sweep,
 * checkpointing or backing out — must not be mistaken for one that keeps the run.
 */
export async function waitForHolder(runDir: string, ms: number): Promise<LockOwner | null> {
  const t0 = Date.now();
  let holder = lockHolder(runDir);
  while (holder && Date.now() - t0 < ms) {
    await new Promise((r) => setTimeout(r, 100));
    holder = lockHolder(runDir);
  }
  return holder;
}

/** The live holder of the run's lock, on this machine or another, or null (free, or left by a dead one). */
export function lockHolder(runDir: string): LockOwner | null {
  const owner = readLockOwner(runDir);
  return owner && holds(owner) ? owner : null;
}

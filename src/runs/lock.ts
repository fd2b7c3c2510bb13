// One process per run directory: a lock file holding the owner's pid, created exclusively. A lock left by
// a process that no longer exists (killed with SIGKILL) is taken over.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { EXIT_BUSY, VdsError } from '../util/errors.ts';

const LOCK = 'run.lock';

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function acquireRunLock(runDir: string): () => void {
  mkdirSync(runDir, { recursive: true });
  const file = path.join(runDir, LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(file, 'utf8'));
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new VdsError(`the run is in use by process ${pid}`, { file: runDir, hint: 'wait for it to finish, or stop it first', exitCode: EXIT_BUSY });
      }
      rmSync(file, { force: true }); // stale: its owner is gone
    }
  }
  throw new VdsError('could not take the run lock', { file });
}

/** The pid of the live process holding the run's lock on this machine, or null (free, or left by a dead one). */
export function lockHolder(runDir: string): number | null {
  let pid: number;
  try {
    pid = Number(readFileSync(path.join(runDir, LOCK), 'utf8'));
  } catch {
    return null;
  }
  return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : null;
}

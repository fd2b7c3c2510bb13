// Files are never half-written: write to a temp file beside the target, fsync, then rename over it.
import { promises as fs, writeFileSync, renameSync, openSync, fsyncSync, closeSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';

let tempCounter = 0;

/** Unique per process and call, so concurrent writes of one target never share a temp file. */
function tempName(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${tempCounter++}.tmp`);
}

/** A full disk (or quota): the write was abandoned and the file it would have replaced is untouched. */
export class NoSpaceError extends Error {
  readonly file: string;
  constructor(file: string, code: string) {
    super(`no space left on the device to write ${file} (${code}); the file it would replace is intact — free some space, then run the command again (a training run: vds train --resume)`);
    this.name = 'NoSpace';
    this.file = file;
  }
}

/** A write's error as the user should read it: ENOSPC and EDQUOT become NoSpaceError naming the file. */
export function writeError(e: unknown, file: string): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' ? new NoSpaceError(file, code) : e;
}

export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempName(target);
  try {
    await fs.mkdir(path.dirname(target), { recursive: true });
    const handle = await fs.open(tmp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, target);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => undefined); // a half-written temp file is never left behind
    throw writeError(e, target);
  }
}

/**
 * For a small text file (status.json) on a full disk, where no temp file fits: overwrites it in place in one
 * write, padded with trailing spaces to at least its old length so that nothing is truncated and no new
 * block is needed (a page holds it; JSON allows trailing whitespace). Used only after writeFileAtomic
 * failed for lack of space, so that a failed run is still marked failed.
 */
export async function rewriteInPlace(target: string, text: string): Promise<void> {
  const handle = await fs.open(target, 'r+');
  try {
    const { size } = await handle.stat();
    await handle.write(text.padEnd(size, ' '), 0, 'utf8');
    await handle.sync();
  } catch (e) {
    throw writeError(e, target);
  } finally {
    await handle.close();
  }
}

/** Appends to a file (a full disk may leave a partial last line, which its readers drop). */
export async function appendFileChecked(target: string, data: string): Promise<void> {
  try {
    await fs.appendFile(target, data);
  } catch (e) {
    throw writeError(e, target);
  }
}

/** Synchronous variant, for signal handlers and exit paths where awaiting is not possible. */
export function writeFileAtomicSync(target: string, data: string | Uint8Array): void {
  const tmp = tempName(target);
  try {
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(tmp, data);
    const fd = openSync(tmp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw writeError(e, target);
  }
}

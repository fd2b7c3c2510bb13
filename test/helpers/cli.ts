// Running the real `vds` binary in a child process, as a user would.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const VDS_BIN = fileURLToPath(new URL('../../bin/vds.mjs', import.meta.url));
export const REPO = fileURLToPath(new URL('../..', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs vds to the end; `env` adds to this process's environment, and a key set to undefined is removed. */
export function vds(args: string[], env: Record<string, string | undefined> = {}): CliResult {
  const merged = { ...process.env, ...env };
  for (const k of Object.keys(merged)) if (merged[k] === undefined) delete merged[k];
  const r = spawnSync(process.execPath, [VDS_BIN, ...args], { encoding: 'utf8', env: merged, timeout: 600_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts vds without waiting; the caller signals or awaits it. */
export function vdsAsync(args: string[]) {
  const child = spawn(process.execPath, [VDS_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done, output: () => ({ stdout, stderr }) };
}

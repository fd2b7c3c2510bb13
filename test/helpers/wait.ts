// Polling for the tests that watch other processes (sweeps, Slurm jobs, queue workers) get somewhere.

/** Polls until `check` returns something truthy; fails with `what` after `seconds` (a hang, not a timing claim). */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, o: { seconds?: number; context?: () => string } = {}): Promise<NonNullable<T>> {
  const seconds = o.seconds ?? 180;
  const until = Date.now() + seconds * 1000;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > until) throw new Error(`gave up waiting for ${what} after ${seconds} s${o.context ? `\n${o.context()}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// A beat given by long synchronous loops (once per evaluation or calibration batch), for what must go on
// while they hold the event loop and no timer can run: the run lock's heartbeat (runs/lock.ts), which other
// machines read to tell a live trainer from a dead one.
const listeners = new Set<() => void>();

/** Calls `fn` on every pulse until the returned function is called. */
export function onPulse(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function pulse(): void {
  for (const fn of listeners) fn();
}

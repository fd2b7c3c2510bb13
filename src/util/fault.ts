// Fault injection for the fault suite (test/faults.test.ts). VDS_FAULT_KILL=<point>[:<n>] makes this process
// kill itself with SIGKILL the n-th time (default: the first) it passes the named point — a real kill -9 at a
// stage that a timer outside the process could not hit reliably (calibration takes milliseconds on a small
// run). Points: step (a training step), calibration (a calibration batch), test-pass (the final test pass
// under one set of statistics), prune (pruned.ckpt written, prune.json not yet), eval (OOD done, rotations
// not yet). Unset, a point costs one lookup.
const wanted = (() => {
  const spec = process.env.VDS_FAULT_KILL;
  if (!spec) return null;
  const [point, n] = spec.split(':');
  return { point, remaining: Number(n ?? 1) };
})();

export type FaultPoint = 'step' | 'calibration' | 'test-pass' | 'prune' | 'eval';

export function faultPoint(point: FaultPoint): void {
  if (!wanted || wanted.point !== point) return;
  if (--wanted.remaining > 0) return;
  process.kill(process.pid, 'SIGKILL');
}

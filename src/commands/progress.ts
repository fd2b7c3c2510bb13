// How a training run shows itself: a cli-progress bar on a terminal, one plain line per epoch otherwise
// (logs, CI, sweeps), nothing with 'none'. Everything goes to stderr; stdout carries only results.
import cliProgress from 'cli-progress';
import type { EpochRecord } from '../train/loop.ts';
import type { StepStats } from '../train/step.ts';

export type ProgressMode = 'auto' | 'bar' | 'plain' | 'none';

export interface Reporter {
  onStep(epoch: number, step: number, steps: number, stats: StepStats): void;
  onEpoch(record: EpochRecord): void;
  log(message: string): void;
  stop(): void;
}

const fmt = (x: number, digits = 4): string => (Number.isFinite(x) ? x.toFixed(digits) : String(x));

export function epochLine(r: EpochRecord, maxEpochs: number, learnt = true): string {
  // the statistics that drive early stopping first; the other set's accuracy beside it, named
  const other = r.valBy?.precise && r.valBy.running ? (r.val === r.valBy.precise ? r.valBy.running : r.valBy.precise) : null;
  const otherName = other === r.valBy?.running ? 'running' : 'precise';
  const val = r.val
    ? ` val_elbo ${fmt(r.val.elbo)} val_acc ${fmt(r.val.accuracy)} val_ll ${fmt(r.val.logLikelihood)}` +
      (other ? ` (${otherName} BN: val_acc ${fmt(other.accuracy)})` : '')
    : '';
  return (
    `epoch ${r.epoch}/${maxEpochs} loss ${fmt(r.trainLoss)} acc ${fmt(r.trainAcc)}${val}` +
    // a fixed-depth network has no posterior over depth: no E[d] or d* to show
    (learnt ? ` E[d] ${fmt(r.expectedDepth, 2)} d* ${r.pruneDepth}` : '') +
    ` ${fmt(r.seconds, 1)}s`
  );
}

export function createReporter(mode: ProgressMode, maxEpochs: number, learnt = true): Reporter {
  const resolved = mode === 'auto' ? (process.stderr.isTTY ? 'bar' : 'plain') : mode;
  if (resolved === 'none') return { onStep() {}, onEpoch() {}, log() {}, stop() {} };
  if (resolved === 'plain') {
    return {
      onStep() {},
      onEpoch: (r) => process.stderr.write(epochLine(r, maxEpochs, learnt) + '\n'),
      log: (m) => process.stderr.write(m + '\n'),
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: 'epoch {epoch} [{bar}] {value}/{total} batches | loss {loss} | {eta_formatted} left in epoch',
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    onStep(epoch, step, steps, stats) {
      if (!started) {
        bar.start(steps, 0, { epoch, loss: '-' });
        started = true;
      }
      if (step === 1) bar.setTotal(steps);
      bar.update(step, { epoch: `${epoch}/${maxEpochs}`, loss: fmt(stats.loss) });
    },
    onEpoch(r) {
      if (started) bar.stop();
      started = false;
      process.stderr.write(epochLine(r, maxEpochs, learnt) + '\n');
    },
    log(m) {
      if (started) bar.stop();
      started = false;
      process.stderr.write(m + '\n');
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}

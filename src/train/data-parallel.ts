// Data-parallel training over worker threads. TF.js runs wasm on one thread under Node, so to use more
// cores each step splits its batch by rows: the main thread takes the first share, each worker replica
// (its own wasm instance, a copy of the learner) the next. BatchNorm statistics and backward sums, the
// weight gradients and the loss terms are summed across replicas through shared memory (collective.ts),
// so the step computes the whole batch's update; every replica applies it to its identical copy.
//
// The numbers equal single-replica training up to float rounding (sums are split in parts); the same
// replica count gives the same numbers on every run, so the count is recorded with a run and reused on
// resume.
import { tf } from '../tf/tf.ts';
import type { VdsConfig } from '../config/types.ts';
import { WorkerClient, type WorkerReply } from '../util/ts-worker.ts';
import { learnerTensors } from './learner.ts';
import { headsOf, replicaStep, trainableVariables, type Learner, type ParallelTrainer, type StepStats } from './step.ts';
import { calibrationBatch, statisticsOfBatches, type BatchStatistics } from './calibrate.ts';
import type { Dataset } from '../data/types.ts';
import { makeBatch, type Batch } from '../data/batch.ts';
import type { EvalPass } from './evaluate.ts';
import { collectiveBuffer, SharedCollective } from './collective.ts';
import type { ReplicaMsg } from './replica-worker.ts';

type Reply = WorkerReply & { tensors?: [string, { shape: number[]; values: Float32Array }][]; numTensors?: number; heapBytes?: number | null; stats?: BatchStatistics[]; logits?: Float32Array[] };
type Replica = WorkerClient<ReplicaMsg, Reply>;

/** Whole batches 0..count-1 dealt round-robin over `size` replicas: those of `rank` (0 = the main thread). */
export function roundRobin(count: number, size: number, rank: number): number[] {
  const out: number[] = [];
  for (let k = rank; k < count; k += size) out.push(k);
  return out;
}

/** Row ranges of a batch of B split over `size` replicas (as even as possible, earlier ones no smaller). */
export function shareRows(B: number, size: number): [number, number][] {
  return Array.from({ length: size }, (_, r) => [Math.floor((r * B) / size), Math.floor(((r + 1) * B) / size)]);
}

export class DataParallelTrainer implements ParallelTrainer {
  private constructor(
    private readonly replicas: Replica[],
    private readonly group: SharedCollective,
  ) {}

  get size(): number {
    return this.group.size;
  }

  /**
   * Starts `size − 1` worker replicas of `l` (built from the same config, then loaded with l's current
   * tensors, momentum included). A second or two per worker.
   */
  static async start(
    l: Learner,
    config: VdsConfig,
    data: { inputShape: number[]; classes: number },
    backend: string,
    size: number,
  ): Promise<DataParallelTrainer> {
    let floats = 8; // the step's last all-reduce: every gradient plus four numbers
    for (const v of trainableVariables(l).values()) floats += v.size;
    const buffer = collectiveBuffer(size, floats);
    const replicas: Replica[] = [];
    try {
      for (let rank = 1; rank < size; rank++) {
        const r: Replica = new WorkerClient(new URL('./replica-worker.ts', import.meta.url), 'training replica');
        replicas.push(r);
        await r.call({ kind: 'init', backend, config, inputShape: data.inputShape, classes: data.classes, nTrain: l.nTrain, buffer, rank, size, recompute: l.recompute ?? false });
      }
      const trainer = new DataParallelTrainer(replicas, new SharedCollective(buffer, 0, size));
      await trainer.sync(l);
      return trainer;
    } catch (e) {
      await Promise.all(replicas.map((r) => r.terminate()));
      throw e;
    }
  }

  /** Copies l's tensors (weights, BatchNorm statistics, α, momentum) to every replica. */
  async sync(l: Learner): Promise<void> {
    const tensors = [...(await learnerTensors(l))];
    await Promise.all(this.replicas.map((r) => r.call({ kind: 'load', tensors })));
  }

  async step(l: Learner, x: tf.Tensor, y: tf.Tensor1D): Promise<StepStats> {
    const B = x.shape[0];
    if (B < this.size) throw new Error(`a batch of ${B} cannot be split over ${this.size} replicas`);
    for (const r of this.replicas) if (r.failure) throw new Error(`training replica failed: ${r.failure}`);
    const xs = (await x.data()) as Float32Array;
    const ys = (await y.data()) as Int32Array;
    const per = xs.length / B;
    const rows = shareRows(B, this.size);
    rows.forEach(([s, e], rank) => {
      if (rank === 0) return;
      const xPart = xs.slice(s * per, e * per);
      const yPart = ys.slice(s, e);
      this.replicas[rank - 1].post(
        { kind: 'step', x: xPart, xShape: [e - s, ...x.shape.slice(1)], y: yPart, lr: l.opt.lr, fraction: (e - s) / B },
        [xPart.buffer, yPart.buffer],
      );
    });
    const [s0, e0] = rows[0];
    const xt = tf.tensor(xs.subarray(s0 * per, e0 * per), [e0 - s0, ...x.shape.slice(1)], 'float32');
    const yt = tf.tensor1d(ys.subarray(s0, e0), 'int32');
    try {
      return await replicaStep(l, xt, yt, this.group, { fraction: (e0 - s0) / B, withKl: true });
    } catch (e) {
      this.group.fail(e instanceof Error ? e.message : String(e)); // release replicas waiting in the step
      throw e;
    } finally {
      xt.dispose();
      yt.dispose();
    }
  }

  /**
   * Calibration batches dealt round-robin: batch k to replica k mod size (0 = this thread). Workers get
   * theirs in one request and compute while this thread computes its own; results come back in batch order.
   */
  async batchStatistics(l: Learner, ds: Dataset, plan: Uint32Array[]): Promise<BatchStatistics[]> {
    const out: BatchStatistics[] = new Array(plan.length);
    const shareOf = (rank: number) => roundRobin(plan.length, this.size, rank);
    const pending = this.replicas.map((r, i) => {
      const ks = shareOf(i + 1);
      const batches = ks.map((k) => {
        const b = makeBatch(ds, ds.train, plan[k]);
        return { x: b.x, shape: b.shape };
      });
      return r.call({ kind: 'calibrate', batches }, batches.map((b) => b.x.buffer as ArrayBuffer)).then((reply) => ks.forEach((k, j) => (out[k] = reply.stats![j])));
    });
    const mine = shareOf(0);
    (await statisticsOfBatches(l.net, headsOf(l.posterior), l.net.maxDepth, mine.length, (j) => calibrationBatch(ds, plan[mine[j]]))).forEach((s, j) => (out[mine[j]] = s));
    await Promise.all(pending);
    return out;
  }

  /**
   * Eval-mode logits of `count` batches, dealt round-robin: batch k to replica k mod size (0 = this thread,
   * which computes its own with `forwardHere` while the workers compute theirs). Each batch is computed whole
   * on one replica with the same weights and statistics, so the numbers are one thread's.
   */
  async evalLogits(l: Learner, count: number, batch: (k: number) => Batch, forwardHere: (k: number) => Promise<Float32Array>, o: EvalPass): Promise<Float32Array[]> {
    const out: Float32Array[] = new Array(count);
    const shareOf = (rank: number) => roundRobin(count, this.size, rank);
    const stats = o.stats ? [...(await o.stats.toTensorMap())] : undefined;
    const pending = this.replicas.map((r, i) => {
      const ks = shareOf(i + 1);
      const batches = ks.map((k) => {
        const b = batch(k);
        return { x: b.x, shape: b.shape };
      });
      return r
        .call({ kind: 'forward', batches, upTo: o.upTo, heads: o.heads, stats }, batches.map((b) => b.x.buffer as ArrayBuffer))
        .then((reply) => ks.forEach((k, j) => (out[k] = reply.logits![j])));
    });
    for (const k of shareOf(0)) out[k] = await forwardHere(k);
    await Promise.all(pending);
    return out;
  }

  /** Each replica's tensors (to check they equal the main thread's), its count of live tensors and its wasm heap. */
  async replicaStates(): Promise<{ tensors: Map<string, { shape: number[]; values: Float32Array }>; numTensors: number; heapBytes: number | null }[]> {
    const out = [];
    for (const r of this.replicas) {
      const reply = await r.call({ kind: 'state' });
      out.push({ tensors: new Map(reply.tensors!), numTensors: reply.numTensors!, heapBytes: reply.heapBytes ?? null });
    }
    return out;
  }

  async close(): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.terminate()));
  }
}

// Worker side of data-parallel.ts: one replica with its own TF.js engine and single-threaded wasm instance,
// a copy of the learner, and its rows of each batch. It never sends weights back: the all-reduced
// gradients keep its copy identical to the main thread's.
import { tf } from '../tf/tf.ts';
import { selectBackend } from '../tf/backend.ts';
import type { VdsConfig } from '../config/types.ts';
import { createLearner, learnerTensors, restoreLearner } from './learner.ts';
import { headsOf, replicaStep, type Learner } from './step.ts';
import { statisticsOfBatches } from './calibrate.ts';
import { evalLogits } from './evaluate.ts';
import { PreciseStats } from '../model/index.ts';
import { SharedCollective } from './collective.ts';
import { wasmHeapBytes } from './memory.ts';
import { serveRequests } from '../util/ts-worker.ts';

export type ReplicaMsg =
  | { kind: 'init'; backend: string; config: VdsConfig; inputShape: number[]; classes: number; nTrain: number; buffer: SharedArrayBuffer; rank: number; size: number; recompute: boolean }
  | { kind: 'load'; tensors: [string, { shape: number[]; values: Float32Array }][] }
  | { kind: 'step'; x: Float32Array; xShape: number[]; y: Int32Array; lr: number; fraction: number }
  | { kind: 'calibrate'; batches: { x: Float32Array; shape: number[] }[] }
  | { kind: 'forward'; batches: { x: Float32Array; shape: number[] }[]; upTo: number; heads: 'all' | 'last'; stats?: [string, { shape: number[]; values: Float32Array }][] }
  | { kind: 'state' };

let learner: Learner | null = null;
let group: SharedCollective | null = null;

serveRequests<ReplicaMsg>(
  async (m) => {
    if (m.kind === 'init') {
      await selectBackend(m.backend);
      learner = createLearner(m.config, m.inputShape, m.classes, m.nTrain);
      learner.recompute = m.recompute;
      group = new SharedCollective(m.buffer, m.rank, m.size);
      return { reply: {} };
    }
    if (m.kind === 'load') {
      restoreLearner(learner!, { tensors: new Map(m.tensors) }, 'main thread');
      return { reply: {} };
    }
    if (m.kind === 'step') {
      learner!.opt.lr = m.lr;
      const x = tf.tensor(m.x, m.xShape, 'float32');
      const y = tf.tensor1d(m.y, 'int32');
      try {
        await replicaStep(learner!, x, y, group!, { fraction: m.fraction, withKl: false });
      } finally {
        x.dispose();
        y.dispose();
      }
      return undefined; // the main thread learns the step's outcome through the collective
    }
    if (m.kind === 'calibrate') {
      // this replica's share of the calibration batches (its weights equal the main thread's)
      const l = learner!;
      const stats = await statisticsOfBatches(l.net, headsOf(l.posterior), l.net.maxDepth, m.batches.length, (j) => tf.tensor(m.batches[j].x, m.batches[j].shape, 'float32'));
      return { reply: { stats } };
    }
    if (m.kind === 'forward') {
      // this replica's share of an evaluation's batches: eval-mode logits, with the main thread's statistics
      const stats = m.stats ? (PreciseStats.fromTensorMap(new Map(m.stats)) ?? undefined) : undefined;
      try {
        const logits: Float32Array[] = [];
        for (const b of m.batches) {
          const x = tf.tensor(b.x, b.shape, 'float32');
          try {
            logits.push(await evalLogits(learner!.net, x, { upTo: m.upTo, heads: m.heads, stats }));
          } finally {
            x.dispose();
          }
        }
        return { reply: { logits }, transfer: logits.map((v) => v.buffer as ArrayBuffer) };
      } finally {
        stats?.dispose();
      }
    }
    return { reply: { tensors: [...(await learnerTensors(learner!))], numTensors: tf.memory().numTensors, heapBytes: wasmHeapBytes(tf.backend()) } };
  },
  (message) => group?.fail(message), // wakes the main thread if it waits in a step
);

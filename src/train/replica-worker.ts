// Worker side of data-parallel.ts: one replica with its own TF.js engine and single-threaded wasm instance,
// a copy of the learner, and its rows of each batch. It never sends weights back: the all-reduced
// gradients keep its copy identical to the main thread's.
import { parentPort } from 'node:worker_threads';
import { tf } from '../tf/tf.ts';
import { selectBackend } from '../tf/backend.ts';
import type { VdsConfig } from '../config/types.ts';
import { createLearner, learnerTensors, restoreLearner } from './learner.ts';
import { replicaStep, type Learner } from './step.ts';
import { SharedCollective } from './collective.ts';

export type ReplicaMsg =
  | { kind: 'init'; backend: string; config: VdsConfig; inputShape: number[]; classes: number; nTrain: number; buffer: SharedArrayBuffer; rank: number; size: number }
  | { kind: 'load'; tensors: [string, { shape: number[]; values: Float32Array }][] }
  | { kind: 'step'; x: Float32Array; xShape: number[]; y: Int32Array; lr: number; fraction: number }
  | { kind: 'state' };

let learner: Learner | null = null;
let group: SharedCollective | null = null;

parentPort!.on('message', async (m: ReplicaMsg) => {
  try {
    if (m.kind === 'init') {
      await selectBackend(m.backend);
      learner = createLearner(m.config, m.inputShape, m.classes, m.nTrain);
      group = new SharedCollective(m.buffer, m.rank, m.size);
      parentPort!.postMessage({ ok: true });
    } else if (m.kind === 'load') {
      restoreLearner(learner!, { tensors: new Map(m.tensors) }, 'main thread');
      parentPort!.postMessage({ ok: true });
    } else if (m.kind === 'step') {
      learner!.opt.lr = m.lr;
      const x = tf.tensor(m.x, m.xShape, 'float32');
      const y = tf.tensor1d(m.y, 'int32');
      try {
        replicaStep(learner!, x, y, group!, { fraction: m.fraction, withKl: false });
      } finally {
        x.dispose();
        y.dispose();
      }
    } else {
      parentPort!.postMessage({ ok: true, tensors: [...learnerTensors(learner!)], numTensors: tf.memory().numTensors });
    }
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    group?.fail(message); // wakes the main thread if it waits in a step
    parentPort!.postMessage({ ok: false, error: message });
  }
});

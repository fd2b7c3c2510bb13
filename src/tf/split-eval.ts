// Evaluation of one batch spread over two cores: TF.js's wasm backend runs single-threaded under Node, so a
// worker thread with its own wasm instance and a copy of the weights takes the second half of the batch
// while this thread computes the first. Eval mode only (BatchNorm uses running statistics, so the halves
// are independent and the result equals the one-thread result up to float rounding of the kernels).
import type { Worker } from 'node:worker_threads';
import { startTsWorker } from '../util/ts-worker.ts';
import { tf } from './tf.ts';
import type { ConvResNetShape } from '../model/resnet.ts';
import type { Network } from '../model/network.ts';
import type { DepthPosterior } from '../vds/posterior.ts';
import { marginalLogProbs } from '../vds/predict.ts';

type Reply = { ok: boolean; error?: string; values?: Float32Array };

export class SplitEvaluator {
  private pending: ((r: Reply) => void) | null = null;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (r: Reply) => {
      const p = this.pending;
      this.pending = null;
      p?.(r);
    });
    worker.on('error', (e) => {
      const p = this.pending;
      this.pending = null;
      p?.({ ok: false, error: e.message });
    });
  }

  private call(msg: object, transfer: ArrayBuffer[] = []): Promise<Reply> {
    if (this.pending) throw new Error('SplitEvaluator: one request at a time');
    return new Promise((resolve, reject) => {
      this.pending = (r) => (r.ok ? resolve(r) : reject(new Error(`eval worker: ${r.error}`)));
      this.worker.postMessage(msg, transfer);
    });
  }

  /** Starts the worker (it loads TF.js, the backend and builds the network: a second or two). */
  static async start(shape: ConvResNetShape, backend: string): Promise<SplitEvaluator> {
    const ev = new SplitEvaluator(startTsWorker(new URL('./split-eval-worker.ts', import.meta.url)));
    await ev.call({ kind: 'init', backend, shape });
    return ev;
  }

  /** Copies the current weights, BatchNorm running statistics and α to the worker. */
  async load(net: Network, posterior: DepthPosterior): Promise<void> {
    const tensors: [string, Float32Array][] = [];
    for (const [name, v] of [...net.store.params, ...net.store.buffers]) tensors.push([name, new Float32Array(v.dataSync() as Float32Array)]);
    if (posterior.alpha) tensors.push(['q.alpha', new Float32Array(posterior.alpha.dataSync() as Float32Array)]);
    await this.call({ kind: 'load', tensors }, tensors.map(([, a]) => a.buffer as ArrayBuffer));
  }

  /** Marginal log predictive [B, C] of x [B, ...]: the first ⌈B/2⌉ rows here, the rest in the worker. */
  async marginal(net: Network, posterior: DepthPosterior, x: Float32Array, xShape: number[]): Promise<Float32Array> {
    const B = xShape[0];
    const per = x.length / B;
    const mine = Math.ceil(B / 2);
    const theirs = x.slice(mine * per);
    const remote = this.call({ kind: 'eval', x: theirs, xShape: [B - mine, ...xShape.slice(1)] }, [theirs.buffer]);
    const lp = tf.tidy(() => {
      const xt = tf.tensor(x.subarray(0, mine * per), [mine, ...xShape.slice(1)], 'float32');
      const { logits } = net.forward(xt, { training: false, upTo: net.maxDepth, heads: 'all' });
      return marginalLogProbs(logits, posterior.logQ());
    });
    const local = lp.dataSync() as Float32Array;
    lp.dispose();
    const r = await remote;
    const out = new Float32Array(local.length + r.values!.length);
    out.set(local, 0);
    out.set(r.values!, local.length);
    return out;
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}

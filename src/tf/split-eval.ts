// Evaluation of one batch spread over two cores: TF.js's wasm backend runs single-threaded under Node, so a
// worker thread with its own wasm instance and a copy of the weights takes the second half of the batch
// while this thread computes the first. Eval mode only (BatchNorm uses running statistics, so the halves
// are independent and the result equals the one-thread result up to float rounding of the kernels).
import { WorkerClient, type WorkerReply } from '../util/ts-worker.ts';
import type { Msg } from './split-eval-worker.ts';
import { tf } from './tf.ts';
import type { ConvResNetShape } from '../model/resnet.ts';
import type { Network } from '../model/network.ts';
import type { DepthPosterior } from '../vds/posterior.ts';
import { marginalLogProbs } from '../vds/predict.ts';

type Reply = WorkerReply & { values?: Float32Array };

export class SplitEvaluator {
  private constructor(private readonly worker: WorkerClient<Msg, Reply>) {}

  /** Starts the worker (it loads TF.js, the backend and builds the network: a second or two). */
  static async start(shape: ConvResNetShape, backend: string): Promise<SplitEvaluator> {
    const ev = new SplitEvaluator(new WorkerClient<Msg, Reply>(new URL('./split-eval-worker.ts', import.meta.url), 'eval worker'));
    await ev.worker.call({ kind: 'init', backend, shape });
    return ev;
  }

  /** Copies the current weights, BatchNorm running statistics and α to the worker. */
  async load(net: Network, posterior: DepthPosterior): Promise<void> {
    const tensors: [string, Float32Array][] = [];
    for (const [name, v] of [...net.store.params, ...net.store.buffers]) tensors.push([name, new Float32Array(v.dataSync() as Float32Array)]);
    if (posterior.alpha) tensors.push(['q.alpha', new Float32Array(posterior.alpha.dataSync() as Float32Array)]);
    await this.worker.call({ kind: 'load', tensors }, tensors.map(([, a]) => a.buffer as ArrayBuffer));
  }

  /** Marginal log predictive [B, C] of x [B, ...]: the first ⌈B/2⌉ rows here, the rest in the worker. */
  async marginal(net: Network, posterior: DepthPosterior, x: Float32Array, xShape: number[]): Promise<Float32Array> {
    const B = xShape[0];
    const per = x.length / B;
    const mine = Math.ceil(B / 2);
    const theirs = x.slice(mine * per);
    const remote = this.worker.call({ kind: 'eval', x: theirs, xShape: [B - mine, ...xShape.slice(1)] }, [theirs.buffer]);
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

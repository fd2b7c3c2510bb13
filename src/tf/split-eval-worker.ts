// Worker side of split-eval.ts: its own TF.js engine and wasm instance, a copy of the conv network, and
// the marginal predictive of the share of a batch it is sent.
import { tf } from './tf.ts';
import { selectBackend } from './backend.ts';
import { ConvResNet, type ConvResNetShape } from '../model/resnet.ts';
import { DepthPosterior } from '../vds/posterior.ts';
import { marginalLogProbs } from '../vds/predict.ts';
import { Rng } from '../util/rng.ts';
import { serveRequests } from '../util/ts-worker.ts';

export type Msg =
  | { kind: 'init'; backend: string; shape: ConvResNetShape }
  | { kind: 'load'; tensors: [string, Float32Array][] }
  | { kind: 'eval'; x: Float32Array; xShape: number[] };

let net: ConvResNet | null = null;
let posterior: DepthPosterior | null = null;

serveRequests<Msg>(async (m) => {
  if (m.kind === 'init') {
    await selectBackend(m.backend);
    net = new ConvResNet(m.shape, Rng.derive(0, 'init'));
    posterior = new DepthPosterior(m.shape.maxDepth, true);
    return { reply: {} };
  }
  if (m.kind === 'load') {
    tf.tidy(() => {
      for (const [name, values] of m.tensors) {
        const v = name === 'q.alpha' ? posterior!.alpha! : net!.store.get(name);
        v.assign(tf.tensor(values, v.shape, 'float32'));
      }
    });
    return { reply: {} };
  }
  const out = tf.tidy(() => {
    const x = tf.tensor(m.x, m.xShape, 'float32');
    const { logits } = net!.forward(x, { training: false, upTo: net!.maxDepth, heads: 'all' });
    return marginalLogProbs(logits, posterior!.logQ());
  });
  const values = new Float32Array(out.dataSync() as Float32Array);
  out.dispose();
  return { reply: { values }, transfer: [values.buffer] };
});

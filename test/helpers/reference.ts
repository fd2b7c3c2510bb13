// Loads the reference PyTorch numbers (test/fixtures/reference-parity.json) into vds's layouts and names.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tf } from '../../src/tf/tf.ts';
import { ConvResNet, FcResNet, type Network } from '../../src/model/index.ts';
import { DepthPosterior } from '../../src/vds/posterior.ts';
import { Rng } from '../../src/util/rng.ts';

export interface RefTensor {
  shape: number[];
  data: number[];
}
type StateDict = Record<string, RefTensor>;

export interface RefStep {
  q_probs: RefTensor;
  logits_per_depth: RefTensor;
  expected_nll: number;
  kl: number;
  loss: number;
  grads?: StateDict;
}

export interface RefCase {
  name: string;
  n_train: number;
  lr: number;
  momentum: number;
  prior_probs: RefTensor;
  initial_state_dict: StateDict;
  x: RefTensor;
  y: number[];
  steps: RefStep[];
  after_two_steps_state_dict: StateDict;
  eval_after_two_steps: {
    q_probs: RefTensor;
    logits_per_depth: RefTensor;
    marginal_probs: RefTensor;
    truncated_probs_by_depth: Record<string, RefTensor>;
    prune_depth_095: number;
  };
  architecture: Record<string, number | string>;
}

const FIXTURE = fileURLToPath(new URL('../fixtures/reference-parity.json', import.meta.url));

export function loadReferenceCases(): RefCase[] {
  return JSON.parse(readFileSync(FIXTURE, 'utf8')).cases as RefCase[];
}

const CONV_BLOCK: Record<string, string> = { '0': 'bn1', '2': 'conv1', '3': 'bn2', '5': 'conv2', '6': 'bn3', '8': 'conv3' };
const FC_BLOCK: Record<string, string> = { '0': 'fc', '2': 'bn' };
const FIELD: Record<string, string> = {
  running_mean: 'runningMean',
  running_var: 'runningVar',
};

/** PyTorch state-dict key → vds parameter name, and whether the layer is BatchNorm. */
export function vdsName(key: string, kind: 'conv' | 'fc'): string {
  if (key === 'prob_model.q_logits') return 'q.alpha';
  const parts = key.split('.');
  const field = parts[parts.length - 1];
  let layer: string;
  if (key.startsWith('input_layer')) layer = 'stem';
  else if (key.startsWith('stochstic_layers')) layer = `blocks.${parts[1]}.${(kind === 'conv' ? CONV_BLOCK : FC_BLOCK)[parts[3]]}`;
  else if (key.startsWith('output_layer.1.ops.0')) layer = 'head.fc';
  else if (key.startsWith('output_layer.1.ops.2')) layer = 'head.bn';
  else if (key.startsWith('output_layer')) layer = 'head.out';
  else throw new Error(`unmapped reference key ${key}`);
  const isBn = /\.bn\d?$/.test(layer);
  const name = FIELD[field] ?? (isBn ? { weight: 'gamma', bias: 'beta' }[field] : { weight: 'w', bias: 'b' }[field]);
  if (!name) throw new Error(`unmapped reference field ${key}`);
  return `${layer}.${name}`;
}

/** PyTorch layout → TF.js layout: conv [out,in,kh,kw] → [kh,kw,in,out]; linear [out,in] → [in,out]. */
export function toTf(t: RefTensor): tf.Tensor {
  return tf.tidy(() => {
    const x = tf.tensor(t.data, t.shape, 'float32');
    if (t.shape.length === 4) return tf.transpose(x, [2, 3, 1, 0]);
    if (t.shape.length === 2) return tf.transpose(x, [1, 0]);
    return x;
  });
}

/** Images NCHW → NHWC. */
export function imagesToTf(t: RefTensor): tf.Tensor {
  return tf.tidy(() => {
    const x = tf.tensor(t.data, t.shape, 'float32');
    return t.shape.length === 4 ? tf.transpose(x, [0, 2, 3, 1]) : x;
  });
}

export interface RefModel {
  net: Network;
  posterior: DepthPosterior;
}

/** A network and posterior holding the reference's initial parameters. */
export function buildReferenceModel(c: RefCase): RefModel {
  const a = c.architecture;
  const rng = Rng.fromSeed(0);
  const net: Network =
    a.kind === 'conv'
      ? new ConvResNet(
          {
            inputChannels: a.input_channels as number,
            classes: a.classes as number,
            maxDepth: a.max_depth as number,
            outerWidth: a.outer_width as number,
            innerWidth: a.inner_width as number,
          },
          rng,
        )
      : new FcResNet(
          { inputDim: a.input_dim as number, classes: a.classes as number, maxDepth: a.max_depth as number, width: a.width as number },
          rng,
        );
  const posterior = new DepthPosterior(net.maxDepth, true);
  const seen = new Set<string>();
  for (const [key, value] of Object.entries(c.initial_state_dict)) {
    const name = vdsName(key, net.kind);
    const target = name === 'q.alpha' ? posterior.alpha! : net.store.get(name);
    const t = toTf(value);
    if (t.shape.join() !== target.shape.join()) throw new Error(`${key}: shape ${t.shape} vs ${target.shape}`);
    target.assign(t);
    t.dispose();
    seen.add(name);
  }
  const missing = [...net.store.params.keys(), ...net.store.buffers.keys()].filter((n) => !seen.has(n));
  if (missing.length) throw new Error(`reference lacks ${missing.join(', ')}`);
  return { net, posterior };
}

/** |actual − expected| ≤ abs + rel·|expected|, elementwise; returns a description of the worst miss. */
export function closeTo(actual: ArrayLike<number>, expected: ArrayLike<number>, rel = 1e-4, abs = 1e-5): string | null {
  if (actual.length !== expected.length) return `length ${actual.length} vs ${expected.length}`;
  let worst: string | null = null;
  let worstRatio = 1;
  for (let i = 0; i < expected.length; i++) {
    const tol = abs + rel * Math.abs(expected[i]);
    const ratio = Math.abs(actual[i] - expected[i]) / tol;
    if (!(ratio <= worstRatio)) {
      worstRatio = ratio;
      worst = `[${i}] ${actual[i]} vs ${expected[i]} (|diff| ${Math.abs(actual[i] - expected[i]).toExponential(2)})`;
    }
  }
  return worst;
}

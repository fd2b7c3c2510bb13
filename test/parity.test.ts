// Parity with the paper's reference PyTorch implementation: two SGD steps on a tiny conv VDS ResNet and a
// tiny fully connected one must reproduce every logit, the ELBO terms, every gradient, the parameters and
// BatchNorm running statistics after both steps, and the eval-mode predictions — on wasm and cpu, with and
// without recomputing residual blocks in the backward pass.
import { describe, it, before, after } from 'node:test';
import { tf } from '../src/tf/tf.ts';
import { selectBackend } from '../src/tf/backend.ts';
import { loadReferenceCases } from './helpers/reference.ts';
import { checkCase } from './helpers/parity-checks.ts';

for (const backend of ['cpu', 'wasm'] as const) {
  for (const recompute of [false, true]) {
    describe(`reference parity on ${backend}${recompute ? ', residual blocks recomputed in the backward pass' : ''}`, () => {
      before(async () => {
        await selectBackend(backend);
      });
      after(() => tf.disposeVariables());
      for (const c of loadReferenceCases()) {
        it(c.name, () => checkCase(c, recompute));
      }
    });
  }
}

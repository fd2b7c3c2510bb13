// Build the network a config asks for, for a dataset's input shape and class count.
import type { ModelConfig } from '../config/types.ts';
import { Rng } from '../util/rng.ts';
import { ConvResNet } from './resnet.ts';
import { FcResNet } from './fc.ts';
import type { Network } from './network.ts';

export type { Network, ForwardOptions, ForwardResult, BatchStatsRecord } from './network.ts';
export { ConvResNet } from './resnet.ts';
export { FcResNet } from './fc.ts';
export { PreciseStats, type StatisticsKind, type NormStats } from './norm-stats.ts';

/** Weights are drawn from the seed's own 'init' stream, identical on every backend. */
export function createNetwork(model: ModelConfig, inputShape: number[], classes: number, seed: number): Network {
  const rng = Rng.derive(seed, 'init');
  if (model.kind === 'conv') {
    return new ConvResNet(
      {
        inputChannels: inputShape[2],
        classes,
        maxDepth: model.maxDepth,
        outerWidth: model.outerWidth,
        innerWidth: model.innerWidth,
      },
      rng,
    );
  }
  return new FcResNet({ inputDim: inputShape[0], classes, maxDepth: model.maxDepth, width: model.width }, rng);
}

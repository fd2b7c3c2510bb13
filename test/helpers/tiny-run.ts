// Small, real training setups shared by the training tests: real MNIST test-set digits (shipped as test
// fixtures), a narrow conv VDS ResNet, a few epochs.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/index.ts';
import type { VdsConfig } from '../../src/config/types.ts';

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `vds-${prefix}-`));
}

/** A resolved config for a quick real-data run; `sets` as on the command line. */
export function tinyConfig(resultsDir: string, sets: string[] = []): VdsConfig {
  return loadConfig({
    sets: [
      'experiment=test',
      'data.name=mnist-fixture',
      'data.limit=600',
      'data.testLimit=300',
      'data.validationFraction=0.2',
      'model.maxDepth=3',
      'model.outerWidth=8',
      'model.innerWidth=4',
      'train.batchSize=64',
      'train.epochs=3',
      'train.patience=30',
      'train.evalBatchSize=200',
      `resultsDir=${JSON.stringify(resultsDir)}`,
      ...sets,
    ],
  }).config;
}

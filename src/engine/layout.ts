// Where everything lives in the engine's flat buffers. Parameters, gradients and momentum share one layout
// (the learner's trainable tensors in order, α last), so the optimiser is one dispatch over all of them;
// BatchNorm running statistics have their own. The statistics buffer holds (mean, variance) of every
// BatchNorm application of a pass: three per block, then the head's once per depth.
import type { ConvResNetShape } from '../model/resnet.ts';

export interface Slot {
  offset: number; // floats
  size: number;
  shape: number[];
}

export class FlatLayout {
  readonly slots = new Map<string, Slot>();
  size = 0;

  add(name: string, shape: number[]): void {
    const size = shape.reduce((a, b) => a * b, 1);
    this.slots.set(name, { offset: this.size, size, shape: [...shape] });
    this.size += size;
  }

  at(name: string): number {
    const s = this.slots.get(name);
    if (!s) throw new Error(`engine layout has no ${name}`);
    return s.offset;
  }
}

/** Offsets into the statistics buffer: [mean C | variance C] per application. */
export class StatsLayout {
  readonly perBlock: number;
  readonly head: number; // the head's entries start here, 2·outer floats per depth
  readonly size: number;

  constructor(readonly net: ConvResNetShape, readonly heads: number) {
    const { outerWidth: O, innerWidth: I } = net;
    this.perBlock = 2 * O + 4 * I;
    this.head = net.maxDepth * this.perBlock;
    this.size = this.head + heads * 2 * O;
  }

  /** Block k's BatchNorm j (0: bn1 over the outer width, 1 and 2 over the inner width). */
  block(k: number, j: number): number {
    const { outerWidth: O, innerWidth: I } = this.net;
    return k * this.perBlock + [0, 2 * O, 2 * O + 2 * I][j];
  }

  channels(j: number): number {
    return j === 0 ? this.net.outerWidth : this.net.innerWidth;
  }

  /** The head's entry for head slot h (depth h when every depth has a head; 0 for the last only). */
  headAt(h: number): number {
    return this.head + h * 2 * this.net.outerWidth;
  }
}

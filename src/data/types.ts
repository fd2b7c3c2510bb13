// What the data layer hands to training: raw examples kept compact (uint8 images, NHWC), normalised
// only when a batch is built.

export interface Split {
  /** Images: uint8 NHWC, n·h·w·c values. Vectors (spirals): float32, n·dim values, already standardised. */
  x: Uint8Array | Float32Array;
  /** Class index per example, 0..classes-1. */
  y: Uint8Array;
  n: number;
}

export interface Dataset {
  name: string; // e.g. 'mnist', 'spirals'
  classes: number;
  /** Per-example shape: [h, w, c] for images, [dim] for vectors. */
  inputShape: number[];
  /** Per-channel normalisation applied to uint8 images as (x/255 - mean)/std; empty for vectors. */
  mean: number[];
  std: number[];
  train: Split; // after the validation hold-out and `limit`
  validation: Split; // seeded hold-out from the training split, used for early stopping
  test: Split; // touched only by the final evaluation
  /** Where the examples came from (paths, checksums, package versions), recorded in the run directory. */
  provenance: Record<string, unknown>;
}

// The one place vds imports TensorFlow.js. Every other module imports `tf` from here, so there is a single
// engine instance (tfjs-node / wasm register their backends on this same @tensorflow/tfjs-core).
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's Node build registers no gradients; the @tensorflow/tfjs union package does (on this same
// core instance: npm dedupes it, and tfjs-node depends on that very package too).
import '@tensorflow/tfjs';

export { tf };
export type Tensor = tf.Tensor;
export type Variable = tf.Variable;

/**
 * A tensor's values, read asynchronously. Every read on the training and evaluation paths goes through
 * here: the webgpu backend has no synchronous read in Node (its dataSync needs a browser's OffscreenCanvas),
 * and on wasm and cpu the values are the same ones dataSync gives.
 */
export async function readFloats(t: tf.Tensor): Promise<Float32Array> {
  return (await t.data()) as Float32Array;
}

/** readFloats, then dispose: for a tensor made only to be read. */
export async function takeFloats(t: tf.Tensor): Promise<Float32Array> {
  try {
    return await readFloats(t);
  } finally {
    t.dispose();
  }
}

// The one place vds imports TensorFlow.js. Every other module imports `tf` from here, so there is a single
// engine instance (tfjs-node / wasm register their backends on this same @tensorflow/tfjs-core).
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's Node build registers no gradients; the @tensorflow/tfjs union package does (on this same
// core instance: npm dedupes it, and tfjs-node depends on that very package too).
import '@tensorflow/tfjs';

export { tf };
export type Tensor = tf.Tensor;
export type Variable = tf.Variable;

// Asynchronous tensor reads for tests that also run on webgpu, whose tensors cannot be read synchronously
// in Node.
import { tf, readFloats } from '../../src/tf/tf.ts';

export const read = (t: tf.Tensor): Promise<Float32Array> => readFloats(t);

/** `body` inside an engine scope: what it makes is freed when it ends (tf.tidy takes no async function). */
export async function scoped<T>(body: () => Promise<T>): Promise<T> {
  tf.engine().startScope();
  try {
    return await body();
  } finally {
    tf.engine().endScope();
  }
}

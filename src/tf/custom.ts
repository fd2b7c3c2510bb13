// tf.customGrad with plain tensor parameters: every tensor that needs a gradient must be a parameter.
import { tf } from './tf.ts';

export type SaveFn = (tensors: tf.Tensor[]) => void;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type CustomFn = (...args: any[]) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[] };

export const custom = (fn: CustomFn): ((...xs: tf.Tensor[]) => tf.Tensor) => tf.customGrad(fn as never) as never;

// Kernels the wasm backend of TF.js 4.22 lacks. They are written against the wasm backend's own kernels
// (looked up in the registry and called directly), so they run entirely inside the wasm module and never
// touch the engine's tape or tensor bookkeeping.
import { tf } from './tf.ts';

type TensorInfo = tf.TensorInfo;
type Attrs = Record<string, unknown>;

interface WasmBackendLike {
  disposeData(dataId: object): boolean;
}

function callKernel(name: string, backend: WasmBackendLike, inputs: Record<string, TensorInfo>, attrs: Attrs): TensorInfo {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`wasm backend has no ${name} kernel`);
  return k.kernelFunc({ inputs, backend: backend as never, attrs: attrs as never }) as TensorInfo;
}

/**
 * Conv2DBackpropFilter for NHWC, any stride, 'same' / 'valid' / explicit padding, dilation 1:
 *   dW[i, j, c, o] = Σ_{b, y, x} X[b, y·s_h + i − pad_top, x·s_w + j − pad_left, c] · dY[b, y, x, o]
 * computed as one convolution that treats the batch as the contracted channel axis:
 *   Xᵗ = X transposed to [C, H, W, B] (batch last), Fᵗ = dY transposed to [Ho, Wo, B, O],
 *   conv2d(Xᵗ, Fᵗ, stride 1, dilation s, pads (top, left) of the forward pass) → [C, kh, kw, O] → [kh, kw, C, O].
 */
function conv2DBackpropFilterWasm(args: { inputs: Record<string, TensorInfo>; backend: unknown; attrs: Attrs }): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x, dy } = args.inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs as {
    strides: number | [number, number];
    pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: [number, number, number, number];
  };
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new Error(`vds wasm Conv2DBackpropFilter supports dataFormat NHWC only, got ${dataFormat}`);
  }
  const dilations = (args.attrs as { dilations?: number | [number, number] }).dilations;
  if (dilations !== undefined && !(dilations === 1 || (Array.isArray(dilations) && dilations[0] === 1 && dilations[1] === 1))) {
    throw new Error(`vds wasm Conv2DBackpropFilter supports dilation 1 only, got ${JSON.stringify(dilations)}`);
  }
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const [B, H, W, C] = x.shape;
  const [, Ho, Wo, O] = dy.shape;
  if (Ho !== info.outHeight || Wo !== info.outWidth || O !== filterShape[3] || C !== filterShape[2] || dy.shape[0] !== B) {
    throw new Error(`Conv2DBackpropFilter: dy shape [${dy.shape}] does not match x [${x.shape}] and filter [${filterShape}]`);
  }
  const [kh, kw] = [info.filterHeight, info.filterWidth];
  const [sh, sw] = [info.strideHeight, info.strideWidth];
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  // bottom/right padding that makes the output exactly kh × kw; negative means rows/columns the forward
  // pass never read (valid padding with a stride that does not divide evenly): crop them instead.
  let bottom = kh + (Ho - 1) * sh - H - top;
  let right = kw + (Wo - 1) * sw - W - left;
  const temps: TensorInfo[] = [];
  try {
    let xt = callKernel('Transpose', backend, { x }, { perm: [3, 1, 2, 0] }); // [C, H, W, B]
    temps.push(xt);
    if (bottom < 0 || right < 0) {
      xt = callKernel('Slice', backend, { x: xt }, { begin: [0, 0, 0, 0], size: [C, H + Math.min(bottom, 0), W + Math.min(right, 0), B] });
      temps.push(xt);
      bottom = Math.max(bottom, 0);
      right = Math.max(right, 0);
    }
    const ft = callKernel('Transpose', backend, { x: dy }, { perm: [1, 2, 0, 3] }); // [Ho, Wo, B, O]
    temps.push(ft);
    const r = callKernel('Conv2D', backend, { x: xt, filter: ft }, {
      strides: [1, 1],
      dilations: [sh, sw],
      pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
      dataFormat: 'NHWC',
      dimRoundingMode: undefined,
    }); // [C, kh, kw, O]
    temps.push(r);
    return callKernel('Transpose', backend, { x: r }, { perm: [1, 2, 0, 3] }); // [kh, kw, C, O]
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

/**
 * Identity (tf.clone, and every tensor autodiff saves for the backward pass) that shares the buffer and
 * counts a reference, as the cpu backend's does, instead of the wasm backend's own, which copies: TF.js
 * tensors are immutable (kernels always write new outputs, Variable.assign swaps buffers), so sharing is
 * safe, and the copy doubled the memory a training step holds on wasm.
 */
function identitySharedWasm(args: { inputs: Record<string, TensorInfo>; backend: unknown }): TensorInfo {
  const { x } = args.inputs;
  const backend = args.backend as WasmBackendLike & { incRef(dataId: object): void };
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

let identityReplaced = false;

/** Registers the kernels vds adds to (or replaces in) the wasm backend (idempotent). */
export function registerWasmKernels(): void {
  if (!identityReplaced) {
    const original = tf.getKernel('Identity', 'wasm');
    if (original) {
      const copying = original.kernelFunc;
      tf.unregisterKernel('Identity', 'wasm');
      tf.registerKernel({
        kernelName: 'Identity',
        backendName: 'wasm',
        kernelFunc: ((args: { inputs: Record<string, TensorInfo>; backend: unknown }) =>
          args.inputs.x.dtype === 'string' ? copying(args as never) : identitySharedWasm(args)) as unknown as tf.KernelFunc,
      });
      identityReplaced = true;
    }
  }
  if (!tf.getKernel('Conv2DBackpropFilter', 'wasm')) {
    tf.registerKernel({
      kernelName: 'Conv2DBackpropFilter',
      backendName: 'wasm',
      kernelFunc: conv2DBackpropFilterWasm as unknown as tf.KernelFunc,
    });
  }
}

// `vds doctor`: which TF.js backends load here and why the others do not, the TF.js version, the wasm
// SIMD/threads flags, and a tiny convolution-gradient check against finite differences (float64 in JS).
import { tf, takeFloats } from '../tf/tf.ts';
import { backendAttempts, backendInfo, selectBackend, type BackendAttempt } from '../tf/backend.ts';
import { ADAPTER_ENV, describeAdapter, driverReport, probeDriverOutput, probedAdapter, type DriverReport, type WebGpuAdapterInfo } from '../tf/webgpu.ts';
import { VdsError } from '../util/errors.ts';
import { resolveThreads } from '../train/parallelism.ts';
import { engineCheck } from '../engine/check.ts';

export interface DoctorReport {
  tfjs: string;
  node: string;
  platform: string;
  backend: string | null; // the one selected
  gpu: boolean;
  attempts: BackendAttempt[];
  wasmSimd?: boolean;
  wasmThreads?: boolean;
  trainingThreads?: number; // data-parallel replicas a conv training run would use here
  gradCheck?: { ok: boolean; maxRelError: number; detail: string };
  engine?: string; // vds's WebGPU engine, when the selected backend trains on it
  engineCheck?: { ok: boolean; maxRelError: number; detail: string }; // its kernels on this adapter
  webgpu?: { adapter: WebGpuAdapterInfo | null; driver: DriverReport; driverSaid: string }; // what the webgpu attempt found, used or not; what the drivers printed meanwhile
  error?: string;
}

/** d/dw of Σ conv2d(x, w, 'same') ⊙ r, by the backend and by central differences in float64. */
async function convGradCheck(): Promise<{ ok: boolean; maxRelError: number; detail: string }> {
  const [B, H, W, C, O, K] = [2, 5, 4, 3, 2, 3];
  const xs = Array.from({ length: B * H * W * C }, (_, i) => Math.sin(0.7 * i + 0.3));
  const ws = Array.from({ length: K * K * C * O }, (_, i) => Math.cos(1.3 * i) * 0.5);
  const rs = Array.from({ length: B * H * W * O }, (_, i) => Math.sin(2.1 * i + 1));
  // float64 reference: loss(w) = Σ_{b,y,x,o} r · Σ_{i,j,c} xpad[b, y+i−1, x+j−1, c] w[i,j,c,o]
  const loss = (w: number[]): number => {
    let s = 0;
    for (let b = 0; b < B; b++)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++)
          for (let o = 0; o < O; o++) {
            let v = 0;
            for (let i = 0; i < K; i++)
              for (let j = 0; j < K; j++) {
                const yy = y + i - 1;
                const xx = x + j - 1;
                if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
                for (let c = 0; c < C; c++) v += xs[((b * H + yy) * W + xx) * C + c] * w[((i * K + j) * C + c) * O + o];
              }
            s += v * rs[((b * H + y) * W + x) * O + o];
          }
    return s;
  };
  const got = await takeFloats(
    tf.tidy(() => {
      const x = tf.tensor4d(xs, [B, H, W, C]);
      const r = tf.tensor4d(rs, [B, H, W, O]);
      return tf.grad((w: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, w as tf.Tensor4D, 1, 'same'), r)))(tf.tensor4d(ws, [K, K, C, O]));
    }),
  );
  let worst = 0;
  const h = 1e-6;
  for (let k = 0; k < ws.length; k++) {
    const p = [...ws];
    const m = [...ws];
    p[k] += h;
    m[k] -= h;
    const fd = (loss(p) - loss(m)) / (2 * h);
    worst = Math.max(worst, Math.abs(got[k] - fd) / (1e-3 + Math.abs(fd)));
  }
  return { ok: worst < 1e-3, maxRelError: worst, detail: `conv2d 3×3 'same' filter gradient, ${ws.length} entries` };
}

export async function doctorCommand(o: { backend?: string; json?: boolean }): Promise<void> {
  const report: DoctorReport = {
    tfjs: tf.version_core,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    backend: null,
    gpu: false,
    attempts: [],
  };
  let sel: Awaited<ReturnType<typeof selectBackend>> | null = null;
  try {
    sel = await selectBackend(o.backend ?? 'auto');
    report.backend = sel.name;
    report.gpu = sel.gpu;
    const info = await backendInfo();
    report.wasmSimd = info.wasmSimd;
    report.wasmThreads = info.wasmThreads;
    report.gradCheck = await convGradCheck();
  } catch (e) {
    if (!(e instanceof VdsError)) throw e;
    report.error = e.message;
  }
  if (sel?.engine) {
    report.engine = sel.engine;
    try {
      report.engineCheck = await engineCheck();
    } catch (e) {
      report.engineCheck = { ok: false, maxRelError: NaN, detail: `could not run: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` };
    }
  }
  report.attempts = backendAttempts();
  if (report.attempts.some((a) => a.name === 'webgpu')) report.webgpu = { adapter: probedAdapter(), driver: driverReport(), driverSaid: probeDriverOutput() };
  if (report.backend === 'wasm') report.trainingThreads = resolveThreads();
  if (report.wasmSimd === undefined) {
    // the flags are meaningful even when another backend was chosen
    try {
      await import('@tensorflow/tfjs-backend-wasm');
      report.wasmSimd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
      report.wasmThreads = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
    } catch {
      /* wasm not loadable: the attempts say so */
    }
  }
  if (o.json) {
    console.log(JSON.stringify(report));
  } else {
    console.log(`vds doctor — node ${report.node} (${report.platform}), @tensorflow/tfjs-core ${report.tfjs}`);
    for (const a of report.attempts) console.log(`  ${a.name.padEnd(15)} ${a.ok ? 'ok' : `skipped: ${a.reason}`}`);
    console.log(`  selected: ${report.backend ?? 'none'}${report.gpu ? ' (GPU)' : ''}`);
    if (report.webgpu) {
      const { adapter, driver } = report.webgpu;
      if (adapter) {
        const mib = (b: number): string => `${Math.round(b / 2 ** 20)} MiB`;
        console.log(`  webgpu adapter: ${describeAdapter(adapter)}; largest buffer ${mib(adapter.maxBufferSize)}, largest binding ${mib(adapter.maxStorageBufferBindingSize)}`);
        if (adapter.available.length > 1) console.log(`  webgpu adapters (${ADAPTER_ENV}=index or name picks one): ${adapter.available.map((a, i) => `${i} ${a}`).join('; ')}`);
      }
      console.log(`  webgpu driver: ${driver.summary}${report.webgpu.driverSaid ? `; while probed it said: ${report.webgpu.driverSaid}` : ''}`);
    }
    if (report.wasmSimd !== undefined) {
      console.log(`  wasm: SIMD ${report.wasmSimd ? 'yes' : 'no'}, threads ${report.wasmThreads ? 'yes' : 'no (TF.js disables wasm threads under Node)'}`);
    }
    if (report.trainingThreads !== undefined) {
      console.log(`  training: ${report.trainingThreads} data-parallel thread(s) (--threads / VDS_THREADS; one per core by default)`);
    }
    if (report.gradCheck) {
      const g = report.gradCheck;
      console.log(`  gradient check: ${g.ok ? 'ok' : 'FAILED'} (${g.detail}, max rel. error ${g.maxRelError.toExponential(1)} vs finite differences)`);
    }
    if (report.engineCheck) {
      const g = report.engineCheck;
      console.log(`  engine ${report.engine}: ${g.ok ? 'ok' : 'FAILED'} (${g.detail}, max rel. error ${g.maxRelError.toExponential(1)})`);
    }
    if (report.error) console.log(`  error: ${report.error}`);
  }
  if (report.error) throw new VdsError(report.error, { key: 'backend' });
  if (report.engineCheck && !report.engineCheck.ok) {
    throw new VdsError(`vds's WebGPU engine does not compute correctly on this adapter: ${report.engineCheck.detail}`, { exitCode: 1, hint: 'train with --backend webgpu-tfjs or wasm, and report the adapter (vds doctor --json)' });
  }
  if (report.gradCheck && !report.gradCheck.ok) {
    throw new VdsError(`convolution gradients on ${report.backend} disagree with finite differences`, { exitCode: 1 });
  }
}

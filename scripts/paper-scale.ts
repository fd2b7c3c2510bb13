// Does every configuration of the paper's scans start training here? For each run of configs/paper/
// {mnist,fashion-mnist,svhn}.yaml: the memory plan `vds train` would make on this machine (replicas, whether
// blocks are recomputed, the estimated step peak against the backend's limit). With --step, one real training
// step (synthetic images of the dataset's shape: SVHN's files need not be here) at every distinct
// (input shape, max depth, batch) — memory grows with depth, so --step --largest runs only the deepest with
// and without recomputed blocks.
//
//   node --import tsx scripts/paper-scale.ts [--step [--largest]] [--backend wasm] [--threads N] [--json]
import { parseArgs } from 'node:util';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tf } from '../src/tf/tf.ts';
import { selectBackend } from '../src/tf/backend.ts';
import { readSweepSpec } from '../src/sweep/spec.ts';
import { planSweep } from '../src/sweep/plan.ts';
import { OFFICIAL, isOfficialName } from '../src/data/catalog.ts';
import { gib, resolveRecompute, tryPlanMemory, wasmHeapBytes } from '../src/train/memory.ts';
import type { VdsConfig } from '../src/config/types.ts';
import { resolveThreads, trainingReplicas } from '../src/train/parallelism.ts';
import { createLearner, disposeLearner } from '../src/train/learner.ts';
import { trainStep } from '../src/train/step.ts';
import { DataParallelTrainer } from '../src/train/data-parallel.ts';
import { VdsError } from '../src/util/errors.ts';

const { values } = parseArgs({
  options: {
    step: { type: 'boolean', default: false },
    largest: { type: 'boolean', default: false },
    backend: { type: 'string', default: 'auto' },
    threads: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const repo = fileURLToPath(new URL('..', import.meta.url));
const backend = await selectBackend(values.backend!);
const threads = resolveThreads(values.threads === undefined ? undefined : Number(values.threads));
const mode = resolveRecompute();

interface Row {
  sweep: string;
  dataset: string;
  inputShape: number[];
  maxDepth: number;
  batch: number;
  replicas: number;
  recompute: boolean | null;
  estimate: string;
  fits: boolean;
  note: string;
  step?: { ms: number; loss: number; heapMiB: number | null };
}

const rows: Row[] = [];
const listed = new Set<string>(); // one row per sweep, max depth and method (the seeds share a shape)
const planned = new Map<Row, VdsConfig>(); // the config each row was planned from
for (const name of ['mnist', 'fashion-mnist', 'svhn']) {
  const spec = readSweepSpec(path.join(repo, 'configs/paper', `${name}.yaml`));
  for (const run of planSweep(spec, { sets: [], backend: backend.name })) {
    const c = run.config;
    if (!isOfficialName(c.data.name)) throw new Error(`${spec.name}: unexpected dataset ${c.data.name}`);
    const inputShape = OFFICIAL[c.data.name].inputShape;
    const replicas = trainingReplicas(backend.name, c, threads, c.train.batchSize);
    const key = `${spec.name} ${c.model.maxDepth} ${c.model.method}`;
    if (listed.has(key)) continue;
    listed.add(key);
    const plan = tryPlanMemory({ model: c.model, inputShape, batchSize: c.train.batchSize, replicas, backend: backend.name, mode });
    const shape = { sweep: spec.name, dataset: c.data.name, inputShape, maxDepth: c.model.maxDepth, batch: c.train.batchSize, replicas };
    const row: Row =
      plan instanceof VdsError
        ? { ...shape, recompute: null, estimate: '-', fits: false, note: `${c.model.method}; ${plan.message}` }
        : { ...shape, recompute: plan.recompute, estimate: gib(plan.recompute ? plan.recomputeBytes : plan.plainBytes), fits: true, note: `${c.model.method}; limit: ${plan.limit}` };
    rows.push(row);
    planned.set(row, c);
  }
}

/** One real step of a learnt-depth network of `row`'s shape on synthetic images (the heaviest method). */
async function oneStep(row: Row): Promise<Row['step']> {
  const config = planned.get(row)!;
  const l = createLearner(config, row.inputShape, 10, 60000);
  l.recompute = row.recompute ?? false;
  const parallel = row.replicas > 1 ? await DataParallelTrainer.start(l, config, { inputShape: row.inputShape, classes: 10 }, backend.name, row.replicas) : null;
  if (parallel) l.parallel = parallel;
  const x = tf.randomUniform([row.batch, ...row.inputShape], -1.5, 1.5);
  const y = tf.tensor1d(Int32Array.from({ length: row.batch }, (_, i) => i % 10), 'int32');
  try {
    const t0 = performance.now();
    const s = await trainStep(l, x, y);
    const ms = performance.now() - t0;
    const heaps = parallel ? (await parallel.replicaStates()).map((r) => r.heapBytes ?? 0) : [wasmHeapBytes(tf.backend()) ?? 0];
    return { ms: Math.round(ms), loss: s.loss, heapMiB: heaps.some((h) => h > 0) ? Math.round(Math.max(...heaps) / 2 ** 20) : null };
  } finally {
    tf.dispose([x, y]);
    await parallel?.close();
    disposeLearner(l);
  }
}

if (values.step) {
  // memory depends on the input shape, the depth and the batch, not the dataset: one step per distinct triple
  const seen = new Set<string>();
  const targets = rows.filter((r) => r.fits && r.note.startsWith('learnt')).filter((r) => {
    const k = `${r.inputShape} ${r.maxDepth} ${r.batch}`;
    return !seen.has(k) && seen.add(k);
  });
  // the worst case of each regime: per input shape, the deepest plain step and the deepest recomputed one
  const deepest = new Map<string, Row>();
  for (const r of targets) {
    const k = `${r.inputShape} ${r.recompute}`;
    if ((deepest.get(k)?.maxDepth ?? -1) < r.maxDepth) deepest.set(k, r);
  }
  for (const r of values.largest ? [...deepest.values()] : targets) {
    r.step = await oneStep(r);
    if (!values.json) process.stderr.write(`  one step: ${r.sweep} D=${r.maxDepth} batch ${r.batch}: ${r.step!.ms} ms, loss ${r.step!.loss.toFixed(3)}, heap ${r.step!.heapMiB ?? '-'} MiB\n`);
  }
}

if (values.json) {
  for (const r of rows) console.log(JSON.stringify(r));
} else {
  console.log(`# backend ${backend.name}, ${threads} thread(s), --recompute ${mode}`);
  console.log('sweep                D    batch  replicas  recompute  est. step  one step (ms)  heap MiB  fits');
  for (const r of rows) {
    console.log(
      `${r.sweep.padEnd(20)} ${String(r.maxDepth).padStart(3)}  ${String(r.batch).padStart(5)}  ${String(r.replicas).padStart(8)}  ${String(r.recompute ?? '-').padStart(9)}  ${r.estimate.padStart(9)}  ${String(r.step?.ms ?? '').padStart(13)}  ${String(r.step?.heapMiB ?? '').padStart(8)}  ${r.fits ? 'yes' : `NO: ${r.note}`}`,
    );
  }
}
const refused = rows.filter((r) => !r.fits).length;
process.exit(refused ? 1 : 0);

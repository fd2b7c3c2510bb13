// `vds train`: resolve the config (or take it from the checkpoint on --resume), pick the backend, load the
// data, run, evaluate, and print the run directory as the last line of stdout.
import path from 'node:path';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, rmdirSync } from 'node:fs';
import type { BackendName, VdsConfig } from '../config/types.ts';
import { configToYaml, loadConfig, parseResolvedConfig } from '../config/index.ts';
import { selectBackend, backendInfo } from '../tf/backend.ts';
import { resolveThreads, smallestTrainBatch, trainingReplicas } from '../train/parallelism.ts';
import { gib, planMemory, replicasToFit, resolveRecompute } from '../train/memory.ts';
import { loadDataset, resolveDataDir } from '../data/index.ts';
import { readCheckpoint } from '../runs/checkpoint.ts';
import { reopen, upgradeTrainState, type TrainState } from '../train/loop.ts';
import { checkpointPath, executeRun, failureReason } from '../runs/execute.ts';
import { RUN_FILES, type EnvRecord, type EvalRecord } from '../runs/layout.ts';
import { acquireRunLock, HEARTBEAT_MS, waitForHolder } from '../runs/lock.ts';
import { onPulse } from '../util/pulse.ts';
import { assertFreshRunDir, defaultRunId, envRecord, readStatus, runDirFor, writeJson } from '../runs/run-dir.ts';
import { writeFileAtomic } from '../util/fsx.ts';
import { VdsError } from '../util/errors.ts';
import { VDS_VERSION } from '../util/version.ts';
import { createReporter, type ProgressMode } from './progress.ts';
import { assertRunDir } from '../runs/locate.ts';

export interface TrainOptions {
  config?: string;
  set: string[];
  printConfig: boolean;
  resume?: string;
  backend?: BackendName;
  runId?: string;
  resultsDir?: string;
  dataDir?: string;
  progress: ProgressMode;
  verbose: boolean;
  threads?: number; // wasm: data-parallel threads (see train/parallelism.ts)
  recompute?: string; // auto | on | off: activation checkpointing (see train/memory.ts)
}

/**
 * The closing lines: the marginal over depths (a fixed-depth run: the network itself), the network pruned at
 * d* (learnt only), and the same under the other set of BatchNorm statistics, named for what it is; all of
 * the epoch with the best validation ELBO, named. ECE is top-label with 10 equal-width bins, as in the report.
 */
export function closingSummary(ev: EvalRecord): string[] {
  const m = (x: { accuracy: number; logLikelihood: number; ece10: number }) =>
    `accuracy ${x.accuracy.toFixed(4)}  LL ${x.logLikelihood.toFixed(4)}  ECE (10 bins) ${x.ece10.toFixed(4)}`;
  const sel = ev.statistics ?? 'running';
  const otherKind = sel === 'precise' ? 'running' : 'precise';
  const other = ev.byStatistics?.[otherKind];
  const learnt = ev.method !== 'fixed';
  const label = (s: string) => s.padEnd(30);
  const otherName =
    otherKind === 'running'
      ? "reference's running statistics (the running BatchNorm averages the PyTorch code evaluates with)"
      : 'precise per-depth BatchNorm statistics';
  return [
    // the tested weights are the best epoch's (validation ELBO), not the last epoch printed above: say which
    `test split, epoch ${ev.bestEpoch} of ${ev.epochsRun} (best validation ELBO), ${sel === 'precise' ? 'precise per-depth' : "the reference's running"} BatchNorm statistics (eval.statistics):`,
    learnt
      ? `  ${label(`marginal over depths 0..${ev.maxDepth}`)}${m(ev.marginal)}  E_q[d] ${ev.expectedDepth.toFixed(2)}`
      : `  ${label(`fixed depth ${ev.maxDepth}`)}${m(ev.marginal)}`,
    ...(learnt ? [`  ${label(ev.pruneDepth === ev.maxDepth ? `pruned at d* = ${ev.pruneDepth} (= D)` : `pruned at d* = ${ev.pruneDepth}`)}${m(ev.pruned)}`] : []),
    ...(other
      ? [`  with the ${otherName}: ${learnt ? 'marginal ' : ''}${m(other.marginal)}${learnt ? `; pruned accuracy ${other.pruned.accuracy.toFixed(4)}` : ''}`]
      : []),
  ];
}

/**
 * The run directory, on stdout, once: as soon as the run holds it, so that it is stdout's last line however the
 * run ends (finished, stopped, failed, killed). Into a pipe, stdout is then handed back: a Ctrl-C at the
 * terminal stops every process of the pipeline, and `tail -1` in `RUN=$(vds train … | tail -1)` would die
 * waiting for an end of file that only vds's exit gives, losing the line. So fd 1 is closed (the reader sees
 * the end at once) and reopened on /dev/null (nothing vds writes later can reach a file that took its number);
 * vds writes nothing more to stdout in a run.
 */
function announceRunDir(runDir: string): void {
  process.stdout.write(`${runDir}\n`); // synchronous into a pipe (Linux, macOS)
  let pipe = false;
  try {
    pipe = process.platform !== 'win32' && fstatSync(1).isFIFO();
  } catch {
    /* no stdout at all */
  }
  if (!pipe) return;
  closeSync(1);
  const fd = openSync('/dev/null', 'w'); // the lowest free number: 1, unless another thread opened a file between
  if (fd !== 1) closeSync(fd); // lost that race: fd 1 is another file's now, and vds writes nothing more to stdout
}

/** The most data-parallel replicas vds starts on its own to make a step fit (each is a wasm instance). */
const MAX_REPLICAS = 8;

/** On resume these may change (to train longer); anything else would make the run a different run. */
const RESUMABLE_KEYS = ['train.epochs', 'train.patience'];

/** What a resume starts from: the checkpoint's config and state, or — for a run stopped before its first
 * checkpoint (killed in its first epoch) — the run's config.yaml and a fresh start, since nothing is lost. */
function resumeSource(o: TrainOptions): { config: VdsConfig; saved: { config: VdsConfig; state: TrainState } | null } {
  if (o.config) {
    throw new VdsError('--config cannot be combined with --resume: the config comes from the run directory', {
      key: '--config',
      hint: `drop --config; change train.epochs or train.patience with --set if needed`,
    });
  }
  assertRunDir(o.resume!, 'vds train --resume RUN_DIR');
  const file = checkpointPath(o.resume!, 'last');
  const configFile = path.join(o.resume!, RUN_FILES.config);
  let saved: { config: VdsConfig; state: TrainState } | null = null;
  let base: VdsConfig;
  if (existsSync(file)) {
    const header = readCheckpoint<TrainState>(file).header;
    saved = { config: header.config as VdsConfig, state: upgradeTrainState(header.state) };
    // the checkpoint's config, re-validated
    base = parseResolvedConfig(configToYaml(saved.config), file);
  } else if (existsSync(configFile) && readStatus(o.resume!) !== null) {
    base = parseResolvedConfig(readFileSync(configFile, 'utf8'), configFile);
  } else {
    throw new VdsError('no checkpoint to resume from (expected checkpoints/last.ckpt)', { file: o.resume });
  }
  for (const s of o.set) {
    const key = s.split('=')[0];
    if (!RESUMABLE_KEYS.includes(key)) {
      throw new VdsError(`cannot change "${key}" on resume: it conflicts with the run's config`, {
        key,
        file: saved ? file : configFile,
        hint: `only ${RESUMABLE_KEYS.join(', ')} may be changed when resuming`,
      });
    }
  }
  return { config: o.set.length ? loadConfig({ base, sets: o.set }).config : base, saved };
}

/** The keys a resume changed, old → new (what env.json records, since the run id describes the old config). */
function changedKeys(before: VdsConfig, after: VdsConfig): Record<string, [unknown, unknown]> {
  const out: Record<string, [unknown, unknown]> = {};
  for (const key of RESUMABLE_KEYS) {
    const [section, name] = key.split('.') as ['train', keyof VdsConfig['train']];
    if (before[section][name] !== after[section][name]) out[key] = [before[section][name], after[section][name]];
  }
  return out;
}

export async function trainCommand(o: TrainOptions): Promise<void> {
  let config: VdsConfig;
  const overrides: Partial<VdsConfig> = {};
  let changes: Record<string, [unknown, unknown]> = {};
  if (o.resume) {
    const source = resumeSource(o);
    config = source.config;
    const saved = source.saved;
    changes = saved ? changedKeys(saved.config, config) : {};
    if (!saved) {
      process.stderr.write(`no checkpoint yet (the run stopped in its first epoch): it starts again from epoch 1 with its ${RUN_FILES.config}\n`);
    } else if (readStatus(o.resume)?.state === 'finished' && !reopen(saved.state, config.train)) {
      const state = saved.state;
      // nothing to train: leave every file as it is (re-evaluating would only rewrite eval.json)
      process.stderr.write(
        `already finished (${state.epoch} epochs, ${state.stopReason === 'early-stopping' ? 'stopped early' : 'all epochs run'}); nothing to do` +
          ` — to train on, raise train.epochs (now ${config.train.epochs})${state.stopReason === 'early-stopping' ? ` or train.patience (now ${config.train.patience})` : ''} with --set\n`,
      );
      process.stdout.write(o.resume + '\n');
      return;
    }
  } else {
    if (!o.config) throw new VdsError('--config is required (or --resume RUN_DIR)', { key: '--config' });
    if (o.backend) overrides.backend = o.backend;
    if (o.resultsDir) overrides.resultsDir = o.resultsDir;
    const loaded = loadConfig({ file: o.config, sets: o.set, overrides });
    for (const w of loaded.warnings) process.stderr.write(`warning: ${w}\n`);
    config = loaded.config;
  }
  if (o.printConfig) {
    process.stdout.write(configToYaml(config));
    return;
  }

  const available = resolveThreads(o.threads); // checked before anything is written
  const recompute = resolveRecompute(o.recompute);
  const backend = await selectBackend(o.backend ?? config.backend);
  const reporter = createReporter(o.progress, config.train.epochs, config.model.method === 'learnt');
  if (o.verbose) for (const n of backend.notes) reporter.log(`backend: ${n}`);

  const dataDir = resolveDataDir(o.dataDir ?? config.data.dir ?? undefined);
  const ds = await loadDataset(config.data, config.seed, { dataDir, log: (m) => reporter.log(m) });
  reporter.log(`data: ${ds.name} train ${ds.train.n} / validation ${ds.validation.n} / test ${ds.test.n}`);

  const runDir = o.resume ?? runDirFor(config, o.runId ?? defaultRunId(config));
  if (!o.resume) assertFreshRunDir(runDir);
  const previous = o.resume ? (JSON.parse(readFileSync(path.join(runDir, RUN_FILES.env), 'utf8')) as EnvRecord) : null;
  // a resumed run keeps its replica count (it decides float rounding) unless --threads says otherwise
  const threads = o.threads ?? previous?.replicas ?? available;
  const smallest = smallestTrainBatch(ds.train.n, config.train.batchSize);
  let replicas = trainingReplicas(backend.name, config, threads, smallest);
  if (previous?.replicas !== undefined && replicas !== previous.replicas) {
    reporter.log(`warning: the run trained with ${previous.replicas} replica(s), continuing with ${replicas}: numbers differ from an uninterrupted run at float rounding`);
  }
  const step = { model: config.model, inputShape: ds.inputShape, batchSize: config.train.batchSize, backend: backend.name, mode: recompute };
  // wasm: when the thread count was not asked for (a default, or a sweep's share of the cores), a step
  // too big for one wasm heap per thread gets more replicas (threads sharing the cores) rather than a refusal
  if (o.threads === undefined && !previous) {
    const first = replicas;
    replicas = replicasToFit(step, replicas, trainingReplicas(backend.name, config, MAX_REPLICAS, smallest));
    if (replicas !== first) reporter.log(`warning: a step does not fit ${first} wasm heap(s); training on ${replicas} data-parallel replicas (threads sharing the cores) to fit`);
  }
  // pre-flight: a step that cannot fit is refused here, before the run directory is written
  const memory = planMemory({ ...step, replicas });
  const info = await backendInfo();
  // under `vds sweep` (or a queue worker, or a Slurm task): the process that started this run
  const parent = process.env.VDS_SWEEP_PARENT ? Number(process.env.VDS_SWEEP_PARENT) : null;
  const orphaned = (): boolean => parent !== null && process.ppid !== parent;
  // the lock comes before the first write to the run directory. A live holder gets a few seconds to let go:
  // it may be the child of a killed sweep backing out of this very run (just below)
  const existed = existsSync(runDir);
  await waitForHolder(runDir, 5_000);
  const lock = acquireRunLock(runDir);
  if (orphaned()) {
    // the sweep died while this child was starting: the run is left as it was found, for the restarted
    // sweep to decide (it may already have started the run again, and is waiting for this lock)
    lock.release();
    if (!existed) rmdirQuietly(runDir);
    throw new VdsError('the sweep that started this run is gone; the run is left as it was', { file: runDir, exitCode: 130 });
  }
  if (!o.resume) {
    try {
      assertFreshRunDir(runDir); // again, under the lock: another process may have started it meanwhile
    } catch (e) {
      lock.release();
      throw e;
    }
  }
  let env: EnvRecord;
  if (previous) {
    env = previous;
    env.resumedAt.push(new Date().toISOString());
    env.backend = backend.name;
    if (Object.keys(changes).length) {
      // the run goes on under a changed config: config.yaml says what it now trains under, env.json what changed
      env.configChanges = [...(env.configChanges ?? []), { at: new Date().toISOString(), changed: changes }];
      await writeFileAtomic(path.join(runDir, RUN_FILES.config), configToYaml(config));
      await writeJson(runDir, RUN_FILES.env, env);
      reporter.log(`config changed on resume: ${Object.entries(changes).map(([k, [a, b]]) => `${k} ${a} → ${b}`).join(', ')} (recorded in env.json; the run id keeps the old config's hash)`);
    }
  } else {
    env = envRecord({ vdsVersion: VDS_VERSION, tfjsVersion: info.tfjs, backend: backend.name, gpu: backend.gpu, backendNotes: backend.notes, seed: config.seed });
    await writeFileAtomic(path.join(runDir, RUN_FILES.config), configToYaml(config));
  }
  if (info.webgpu) env.webgpu = info.webgpu;
  else delete env.webgpu;
  // vds's engine trains the conv network on backend webgpu; the fc network stays on TF.js (wasm), said so
  const engine = backend.engine && config.model.kind === 'conv' ? backend.engine : null;
  if (engine) env.engine = engine;
  else delete env.engine;
  if (backend.engine && !engine) reporter.log(`note: vds's WebGPU engine covers the conv network; this ${config.model.kind} network trains on TF.js (${info.tfBackend})`);
  env.replicas = replicas;
  env.recompute = memory.recompute;
  env.memory = { rows: memory.rows, plainBytes: Math.round(memory.plainBytes), recomputeBytes: Math.round(memory.recomputeBytes), limit: memory.limit };
  const recomputeNote = memory.recompute ? `, residual blocks recomputed in the backward pass (step ~${gib(memory.recomputeBytes)} per replica; ${gib(memory.plainBytes)} without)` : '';
  reporter.log(`backend: ${backend.name}${backend.gpu ? ' (GPU)' : ''}${engine ? `, engine ${engine}` : ''}${info.webgpu ? ` on ${info.webgpu.summary}` : ''}${replicas > 1 ? `, ${replicas} data-parallel threads` : ''}${recomputeNote}`);
  if (memory.limitBytes === null) reporter.log(`note: ${memory.limit}; the step's estimated ~${gib(memory.recompute ? memory.recomputeBytes : memory.plainBytes)} cannot be checked against it`);
  if (!o.resume) await writeJson(runDir, RUN_FILES.env, { ...env, dataset: ds.provenance }); // a resumed run's at its end
  reporter.log(`run: ${runDir}`);
  announceRunDir(runDir);

  // Ctrl-C (or a sweep's SIGTERM): finish the current step, checkpoint, and leave a resumable run
  let stopRequested = false;
  const onSignal = (): void => {
    stopRequested = true;
    reporter.log('stopping after this step; saving a checkpoint (press Ctrl-C again to abort without one)');
    process.once('SIGINT', () => process.kill(process.pid, 'SIGKILL'));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // under `vds sweep`, a child whose sweep died (even by SIGKILL) checkpoints and stops rather than run on
  const orphanWatch = parent ? setInterval(() => orphaned() && (stopRequested = true), 500) : null;
  // the lock's heartbeat for other machines: from a timer (training yields after every step) and on every
  // batch of the synchronous evaluation and calibration passes; throttled inside
  const heartbeat = setInterval(() => lock.heartbeat(), HEARTBEAT_MS / 2);
  heartbeat.unref();
  const stopPulse = onPulse(() => lock.heartbeat());
  try {
    const outcome = await executeRun(config, ds, runDir, Boolean(o.resume), { replicas, recompute: memory.recompute, engine: Boolean(engine) }, {
      onStep: (e, s, n, st) => reporter.onStep(e, s, n, st),
      onEpoch: (r) => reporter.onEpoch(r),
      interrupted: () => stopRequested,
    }).catch((e: unknown) => {
      reporter.stop();
      if (e instanceof VdsError) throw e;
      // an unexpected failure: a short message (the stack with --verbose); status.json already says failed
      if (o.verbose && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
      throw new VdsError(`training failed: ${failureReason(e)}`, {
        file: runDir,
        hint:
          `status.json records the failure${o.verbose ? '' : '; rerun with --verbose for the stack'}` +
          (existsSync(checkpointPath(runDir, 'last')) ? `; the last checkpoint can be resumed with \`vds train --resume ${runDir}\`` : ''),
        exitCode: 1,
      });
    });
    reporter.stop();
    if (outcome.state === 'interrupted') {
      throw new VdsError(`${outcome.message}; checkpoint saved`, {
        file: runDir,
        hint: `continue with \`vds train --resume ${runDir}\``,
        exitCode: 130,
      });
    }
    const ev = outcome.eval;
    env.endedAt = new Date().toISOString();
    await writeJson(runDir, RUN_FILES.env, { ...env, dataset: ds.provenance });
    // the results, whatever --progress says (it silences progress, not results); stderr, as stdout is the run dir
    process.stderr.write(closingSummary(ev).map((l) => `${l}\n`).join(''));
  } finally {
    if (orphanWatch) clearInterval(orphanWatch);
    clearInterval(heartbeat);
    stopPulse();
    lock.release();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

/** Removes a directory if it is empty (one this process made and wrote nothing to); anything else stays. */
function rmdirQuietly(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty (another process has taken it meanwhile) or already gone: either way not ours to remove
  }
}

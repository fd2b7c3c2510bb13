// What a Slurm sweep asks the cluster for: the `slurm:` section of a sweep file, overridden by flags.
//   slurm:
//     partition: gpu
//     time: "1-00:00:00"          # Slurm's syntax: minutes, H:M:S, D-H:M:S, ...
//     gres: gpu:1
//     cpusPerTask: 4
//     mem: 16G
//     jobs: 8                     # at most 8 of the array's tasks at once (--array=...%8)
//     signalBefore: 120           # USR1 this many seconds before the time limit: checkpoint, requeue (0: none;
//                                 # the time limit's own SIGTERM then checkpoints within KillWait and requeues)
//     sbatch: [--account=myproj]  # more #SBATCH lines
//     setup: [module load cuda/11.2 cudnn/8.1]   # shell lines run before vds starts
import { VdsError } from '../../util/errors.ts';

export interface SlurmSettings {
  partition: string | null;
  time: string | null;
  gres: string | null;
  cpusPerTask: number | null;
  mem: string | null;
  jobs: number | null;
  signalBefore: number;
  sbatch: string[]; // normalised to "--option[=value]" (no "#SBATCH")
  setup: string[];
}

export const SLURM_DEFAULTS: Readonly<SlurmSettings> = {
  partition: null, // the cluster's default partition
  time: null, // the partition's default time limit
  gres: null,
  cpusPerTask: null, // Slurm's default (one); vds trains on as many threads as the task is given
  mem: null,
  jobs: null, // no throttle: Slurm runs as many as fit
  // a checkpoint takes seconds, but Slurm may send the signal up to a minute late: two minutes leaves room
  signalBefore: 120,
  sbatch: [],
  setup: [],
};

export type SlurmKey = keyof SlurmSettings;
export const SLURM_KEYS = Object.keys(SLURM_DEFAULTS) as SlurmKey[];

/** The command-line flag that sets each key. */
export const SLURM_FLAGS: Record<SlurmKey, string> = {
  partition: '--partition',
  time: '--time',
  gres: '--gres',
  cpusPerTask: '--cpus-per-task',
  mem: '--mem',
  jobs: '--jobs',
  signalBefore: '--signal-before',
  sbatch: '--sbatch',
  setup: '--setup',
};

// options vds writes itself: a second value would break the array, its logs or its requeue
const RESERVED = new Map<string, string>([
  ...['array', 'a', 'output', 'o', 'error', 'e', 'open-mode', 'requeue', 'no-requeue', 'signal', 'job-name', 'J', 'chdir', 'D', 'wrap', 'parsable'].map(
    (o) => [o, 'vds sets it itself'] as [string, string],
  ),
  ['partition', 'use slurm.partition (--partition)'],
  ['p', 'use slurm.partition (--partition)'],
  ['time', 'use slurm.time (--time)'],
  ['t', 'use slurm.time (--time)'],
  ['gres', 'use slurm.gres (--gres)'],
  ['cpus-per-task', 'use slurm.cpusPerTask (--cpus-per-task)'],
  ['c', 'use slurm.cpusPerTask (--cpus-per-task)'],
  ['mem', 'use slurm.mem (--mem)'],
]);

/**
 * Slurm's time syntax to seconds: "M", "M:S", "H:M:S", "D-H", "D-H:M", "D-H:M:S"; null for no limit
 * (INFINITE, UNLIMITED); undefined when it is not a time at all.
 */
export function timeLimitSeconds(t: string): number | null | undefined {
  if (/^(INFINITE|UNLIMITED)$/i.test(t)) return null;
  const m = /^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$/.exec(t);
  if (!m) return undefined;
  const [days, a, b, c] = [m[1], m[2], m[3], m[4]].map((x) => (x === undefined ? undefined : Number(x)));
  let s: number;
  if (days !== undefined) s = days * 86400 + a! * 3600 + (b ?? 0) * 60 + (c ?? 0);
  else if (c !== undefined) s = a! * 3600 + b! * 60 + c;
  else s = a! * 60 + (b ?? 0);
  return s > 0 ? s : undefined;
}

/** "#SBATCH --account=x" or "--account=x" → "--account=x"; null when it is not an sbatch option. */
function sbatchOption(line: string): string | null {
  const o = line.trim().replace(/^#SBATCH\s+/, '');
  return /^-{1,2}[A-Za-z]/.test(o) && !/[\n\r]/.test(o) ? o : null;
}

const whole = (min: number, v: unknown): string | null => (Number.isInteger(v) && (v as number) >= min ? null : `expected a whole number ≥ ${min}, got ${JSON.stringify(v)}`);
const word = (re: RegExp, what: string) => (v: unknown): string | null =>
  typeof v === 'string' && re.test(v) ? null : `expected ${what}, got ${JSON.stringify(v)}`;

/** Each key's check: null when fine, else "expected …". */
const CHECKS: Record<SlurmKey, (v: unknown) => string | null> = {
  partition: word(/^[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*$/, 'a partition name (or a comma-separated list)'),
  time: (v) => (typeof v === 'string' && timeLimitSeconds(v) !== undefined ? null : `expected a Slurm time limit (minutes, H:M:S or D-H:M:S), got ${JSON.stringify(v)}`),
  gres: word(/^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)*(,[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)*)*$/, 'a generic resource such as gpu:1 or gpu:a100:2'),
  cpusPerTask: (v) => whole(1, v),
  mem: word(/^\d+[KMGT]?$/i, 'memory such as 16G, 4000M or 0 (all of the node\'s)'),
  jobs: (v) => whole(1, v),
  signalBefore: (v) => whole(0, v) ?? ((v as number) > 65535 ? 'expected at most 65535 seconds (Slurm\'s limit)' : null),
  sbatch: (v) => {
    if (!Array.isArray(v)) return 'expected a list of sbatch options such as --account=myproj';
    for (const x of v) {
      const o = typeof x === 'string' ? sbatchOption(x) : null;
      if (o === null) return `expected sbatch options such as --account=myproj, got ${JSON.stringify(x)}`;
      const name = /^-{1,2}([A-Za-z][\w-]*)/.exec(o)![1];
      const why = RESERVED.get(name);
      if (why) return `"${o}": ${why}`;
    }
    return null;
  },
  setup: (v) => (Array.isArray(v) && v.every((x) => typeof x === 'string' && !x.includes('\0')) ? null : 'expected a list of shell lines (or one block of text)'),
};

/** A block of text is as good as a list of lines. */
const asLines = (v: unknown): unknown => (typeof v === 'string' ? v.split('\n').filter((l) => l.trim() !== '') : v);

/** The `slurm:` section of a sweep file; `fail` names the file, line and key. */
export function parseSlurmSection(raw: unknown, fail: (keyPath: (string | number)[], message: string) => never): Partial<SlurmSettings> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(['slurm'], `expected a mapping with keys among ${SLURM_KEYS.join(', ')}`);
  const out: Partial<Record<SlurmKey, unknown>> = {};
  for (const [k, v0] of Object.entries(raw as Record<string, unknown>)) {
    if (!(SLURM_KEYS as string[]).includes(k)) fail(['slurm', k], `unknown key; expected one of ${SLURM_KEYS.join(', ')}`);
    const key = k as SlurmKey;
    const v = key === 'setup' ? asLines(v0) : v0;
    if (v === null && SLURM_DEFAULTS[key] === null) continue; // null: the cluster's default
    const problem = CHECKS[key](v);
    if (problem) fail(['slurm', k], problem);
    out[key] = key === 'sbatch' ? (v as string[]).map((x) => sbatchOption(x)!) : v;
  }
  return out as Partial<SlurmSettings>;
}

/** The settings a submission uses: defaults, then the sweep file's section, then flags (lists add up). */
export function resolveSlurmSettings(file: Partial<SlurmSettings>, flags: Partial<SlurmSettings>, sweepFile: string): SlurmSettings {
  const s: SlurmSettings = { ...SLURM_DEFAULTS, ...file };
  for (const key of SLURM_KEYS) {
    const v = flags[key];
    if (v === undefined) continue;
    const problem = CHECKS[key](v);
    if (problem) throw new VdsError(problem, { key: SLURM_FLAGS[key] });
    if (key === 'sbatch') s.sbatch = [...s.sbatch, ...(v as string[]).map((x) => sbatchOption(x)!)];
    else if (key === 'setup') s.setup = [...s.setup, ...(v as string[])];
    else (s as unknown as Record<string, unknown>)[key] = v;
  }
  const limit = s.time === null ? null : timeLimitSeconds(s.time);
  if (limit && s.signalBefore >= limit) {
    const key = flags.signalBefore !== undefined ? '--signal-before' : flags.time !== undefined ? '--time' : 'slurm.signalBefore';
    throw new VdsError(`the checkpoint signal (${s.signalBefore} s before the end) would come before the job has run at all (time limit ${s.time})`, {
      key,
      file: key.startsWith('--') ? undefined : sweepFile,
      hint: 'give a longer time limit or a smaller signalBefore',
    });
  }
  return s;
}

// The sbatch script of one job array, and the files beside it in <sweep>/slurm/:
//   array-<n>.sbatch       the script (what --dry-run prints)
//   array-<n>.tasks.json   task t → run (TaskList): the script says which array, the task id which run
//   array-<n>/<t>.log      Slurm's output file for task t: a link to logs/<run id>.log, so everything the
//                          task prints (Slurm's own messages too) lands in the run's log, appended
//                          across requeues, whatever the job id
import path from 'node:path';
import type { SlurmSettings } from './settings.ts';

export interface TaskList {
  sweepDir: string;
  retryFailed: boolean;
  runs: { id: string; dir: string; config: string }[]; // config: the resolved config for a fresh start
}

export const slurmDir = (sweepDir: string): string => path.join(sweepDir, 'slurm');
export const arrayFiles = (sweepDir: string, name: string) => ({
  script: path.join(slurmDir(sweepDir), `${name}.sbatch`),
  tasks: path.join(slurmDir(sweepDir), `${name}.tasks.json`),
  links: path.join(slurmDir(sweepDir), name),
});

/** The job name squeue finds a sweep's jobs by (the script path then tells sweeps of the same name apart). */
export const jobNameFor = (sweepName: string): string => `vds-${sweepName}`;

/** Single-quoted for bash: safe for any path. */
export const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export interface ScriptInput {
  sweepName: string;
  sweepDir: string;
  workDir: string; // where `vds sweep` ran: relative paths in configs (data, results) mean the same in the job
  arrayName: string;
  tasks: number; // the array's tasks: 0..tasks-1
  settings: SlurmSettings;
  node: string; // the node binary and vds entry point that submitted it: a clone runs its own code
  vdsBin: string;
}

export function sbatchScript(o: ScriptInput): string {
  const s = o.settings;
  const files = arrayFiles(o.sweepDir, o.arrayName);
  const directive = (opt: string) => `#SBATCH ${opt}`;
  const lines = [
    '#!/bin/bash',
    `# vds sweep ${o.sweepName}, ${o.arrayName}: ${o.tasks} run(s), task t trains run t of ${path.basename(files.tasks)}.`,
    '# Written by `vds sweep --launcher slurm`; to change it, change the sweep and run that command again.',
    directive(`--job-name=${jobNameFor(o.sweepName)}`),
    directive(`--array=0-${o.tasks - 1}${s.jobs ? `%${s.jobs}` : ''}`),
    directive(`--output=${path.join(files.links, '%a.log')}`),
    directive('--open-mode=append'),
    // Slurm requeues a preempted job only with --requeue, and a timed-out one never: the task asks for
    // USR1 a little before its time limit, checkpoints, and requeues itself (without it, it does so on the
    // time limit's SIGTERM, if the checkpoint fits in KillWait)
    directive('--requeue'),
    ...(s.signalBefore > 0 ? [directive(`--signal=B:USR1@${s.signalBefore}`)] : []),
    directive(`--chdir=${o.workDir}`),
    ...(s.partition ? [directive(`--partition=${s.partition}`)] : []),
    ...(s.time ? [directive(`--time=${s.time}`)] : []),
    ...(s.gres ? [directive(`--gres=${s.gres}`)] : []),
    ...(s.cpusPerTask ? [directive(`--cpus-per-task=${s.cpusPerTask}`)] : []),
    ...(s.mem ? [directive(`--mem=${s.mem}`)] : []),
    ...s.sbatch.map(directive),
    '',
    // B:USR1 reaches only this shell. During set-up, remember it (vds checks VDS_STOP_REQUESTED first);
    // afterwards `exec` makes vds itself the process Slurm signals.
    "trap 'export VDS_STOP_REQUESTED=1' USR1",
    ...(s.setup.length ? setupLines(s.setup) : []),
    // the submitting node by absolute path (a clone runs its own vds), else the set-up's node on PATH
    `NODE=${shellQuote(o.node)}`,
    'if [ ! -x "$NODE" ]; then',
    '  NODE=$(command -v node || true)',
    `  [ -n "$NODE" ] || { echo "[vds task] no node on $HOSTNAME: not at ${o.node.replace(/["$`\\]/g, '')} (where the sweep was submitted) and none on PATH; make it reachable from the compute nodes, or load it in slurm.setup (e.g. --setup 'module load nodejs')" >&2; exit 127; }`,
    `  echo "[vds task] ${o.node.replace(/["$`\\]/g, '')} is not on $HOSTNAME: using $NODE" >&2`,
    'fi',
    `exec "$NODE" ${shellQuote(o.vdsBin)} sweep run-task --tasks ${shellQuote(files.tasks)}`,
    '',
  ];
  return lines.join('\n');
}

/**
 * The user's set-up lines, after making `module` available where the cluster has it only in login shells
 * (a batch script is not one), and under an ERR trap that names the line that failed before the task ends.
 */
function setupLines(setup: string[]): string[] {
  return [
    '# environment set-up (slurm.setup)',
    'if ! type module >/dev/null 2>&1; then',
    '  for f in /etc/profile.d/modules.sh /etc/profile.d/lmod.sh /usr/share/lmod/lmod/init/bash; do',
    '    if [ -f "$f" ]; then . "$f"; break; fi',
    '  done',
    'fi',
    `trap 'echo "[vds task] the set-up line \\"$BASH_COMMAND\\" failed with exit code $? on $HOSTNAME; the run was not started (slurm.setup)" >&2' ERR`,
    'set -e',
    ...setup,
    'set +e',
    'trap - ERR',
  ];
}

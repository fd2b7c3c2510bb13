// What a path given as a run directory really is, so that a command pointed at the wrong thing (a config file,
// an experiment or sweep directory, a typo) says so and names the way out instead of "no checkpoint".
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { VdsError } from '../util/errors.ts';
import { RUN_FILES } from './layout.ts';

const isRunDir = (dir: string): boolean => existsSync(path.join(dir, RUN_FILES.status)) || existsSync(path.join(dir, RUN_FILES.config));

/** The run directories directly inside `dir`. */
function runsIn(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && isRunDir(path.join(dir, e.name)))
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

const listed = (dir: string, names: string[]): string =>
  names.slice(0, 5).map((n) => path.join(dir, n)).join(', ') + (names.length > 5 ? `, … (${names.length} in all)` : '');

/**
 * Refuses `p` unless it is a run directory, saying what it is instead. `usage` is the command with the run
 * directory as its argument, e.g. "vds prune RUN_DIR".
 */
export function assertRunDir(p: string, usage: string): void {
  if (!existsSync(p)) throw new VdsError('does not exist', { file: p, hint: `${usage} takes a run directory, e.g. results/<experiment>/<run-id>` });
  if (!statSync(p).isDirectory()) {
    if (/\.ya?ml$/i.test(p)) throw new VdsError('this is a config file, not a run directory', { file: p, hint: `to train from it: vds train --config ${p}` });
    throw new VdsError('is a file, not a run directory', { file: p, hint: `${usage} takes a run directory, e.g. results/<experiment>/<run-id>` });
  }
  if (isRunDir(p)) return;
  if (existsSync(path.join(p, 'sweep.json'))) {
    const runs = runsIn(p);
    throw new VdsError(`this is a sweep directory${runs.length ? `; its runs: ${listed(p, runs)}` : ' with no runs yet'}`, {
      file: p,
      hint: `${usage} takes one run; a sweep continues with the same \`vds sweep\` command, and \`vds sweep status ${p}\` shows its runs`,
    });
  }
  const runs = runsIn(p);
  if (runs.length) throw new VdsError(`this is an experiment directory; its runs: ${listed(p, runs)}`, { file: p, hint: `${usage} takes one of them` });
  throw new VdsError(`is not a run directory (no ${RUN_FILES.status} or ${RUN_FILES.config} in it)`, { file: p, hint: `${usage} takes a run directory, e.g. results/<experiment>/<run-id>` });
}

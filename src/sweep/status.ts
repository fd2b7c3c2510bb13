// `vds sweep status`: each run's state from its run directory (the truth about what is trained), with
// the launcher's view beside it (what is queued or running, and under which job). Same for every launcher.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { RUN_FILES, type EnvRecord } from '../runs/layout.ts';
import { readStatus } from '../runs/run-dir.ts';
import type { LauncherJob } from './launcher.ts';
import type { SweepManifest } from './manifest.ts';
import { lastCheckpointPath } from './runner.ts';

export const RUN_VIEWS = ['finished', 'running', 'queued', 'failed', 'interrupted', 'not started'] as const;
export type RunView = (typeof RUN_VIEWS)[number];

export interface RunStatusRow {
  id: string;
  setting: Record<string, unknown>; // the swept config keys' values ({} when the sweep varies none)
  state: RunView;
  epoch: number | null; // epochs completed
  epochs: number | null; // the most it will train
  checkpoint: boolean; // a resume would start from checkpoints/last.ckpt
  message: string | null; // why it failed, or how it stopped
  job: LauncherJob | null;
  restarts: number | null; // the scheduler's restarts of its latest job (live, else from env.json)
  log: string;
}

function schedulerRecord(dir: string): EnvRecord['scheduler'] | undefined {
  try {
    return (JSON.parse(readFileSync(path.join(dir, RUN_FILES.env), 'utf8')) as EnvRecord).scheduler;
  } catch {
    return undefined;
  }
}

/** Why a finished run's eval.json cannot serve the report, or null when it reads. */
function unreadable(file: string): string | null {
  try {
    JSON.parse(readFileSync(file, 'utf8'));
    return null;
  } catch {
    return `${RUN_FILES.eval} is not valid JSON: vds report leaves this run out (train it again, or restore the file)`;
  }
}

export function statusRows(manifest: SweepManifest, jobs: Map<string, LauncherJob>): RunStatusRow[] {
  return manifest.runs.map((r) => {
    const st = readStatus(r.dir);
    const job = jobs.get(r.id) ?? null;
    const checkpoint = existsSync(lastCheckpointPath(r.dir));
    let state: RunView;
    let message: string | null = null;
    if (st?.state === 'finished' && existsSync(path.join(r.dir, RUN_FILES.eval))) {
      state = 'finished';
      message = unreadable(path.join(r.dir, RUN_FILES.eval));
    }
    else if (job?.running) state = 'running';
    else if (job?.active) state = 'queued';
    else if (st?.state === 'failed') [state, message] = ['failed', st.message ?? null];
    else if (job?.failed) [state, message] = ['failed', job.failed]; // e.g. bad input: rejected before it had a directory
    else if (st || checkpoint) {
      state = 'interrupted';
      // "running" with nobody running it: its process or job ended without a word (killed, node lost)
      message = st?.state === 'running' ? 'stopped without a checkpoint of its last step (no live process or job)' : (st?.message ?? null);
    } else state = 'not started';
    const sched = schedulerRecord(r.dir);
    return {
      id: r.id,
      setting: r.setting ?? {},
      state,
      epoch: st?.epoch ?? null,
      epochs: r.epochs ?? null,
      checkpoint,
      message,
      job,
      restarts: job?.restarts ?? sched?.restarts ?? null,
      log: r.log,
    };
  });
}

export function countByView(rows: RunStatusRow[]): Record<RunView, number> {
  const c = Object.fromEntries(RUN_VIEWS.map((v) => [v, 0])) as Record<RunView, number>;
  for (const r of rows) c[r.state]++;
  return c;
}

/** A plain-text table, one run a line (with a column per swept config key), then the counts. */
export function statusTable(rows: RunStatusRow[], withJobs: boolean): string {
  const swept = [...new Set(rows.flatMap((r) => Object.keys(r.setting)))];
  const header = ['run', ...swept, 'state', 'epoch', ...(withJobs ? ['job', 'scheduler state', 'restarts'] : []), 'note'];
  const lines = rows.map((r) => [
    r.id,
    ...swept.map((k) => (k in r.setting ? JSON.stringify(r.setting[k]) : '')),
    r.state,
    r.epoch === null ? '' : `${r.epoch}${r.epochs ? ` of ${r.epochs}` : ''}`,
    ...(withJobs ? [r.job?.id ?? '', r.job ? `${r.job.state}${r.job.reason ? ` (${r.job.reason})` : ''}` : '', r.restarts === null ? '' : String(r.restarts)] : []),
    r.message ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (l: string[]) => l.map((x, i) => x.padEnd(widths[i])).join('  ').trimEnd();
  const c = countByView(rows);
  const counts = RUN_VIEWS.map((v) => `${c[v]} ${v}`).join(', ');
  return [fmt(header), ...lines.map(fmt), '', `${rows.length} runs: ${counts}`].join('\n') + '\n';
}

// The launchers by name. `vds sweep` builds one from its flags; `vds sweep status` and `cancel` rebuild
// the one a sweep's manifest names (they need no settings).
import type { Launcher } from '../launcher.ts';
import type { LauncherName, SweepManifest } from '../manifest.ts';
import type { SlurmSettings } from '../slurm/settings.ts';
import type { QueueSettings } from '../../queue/jobs.ts';
import { QueueLauncher } from '../../queue/launcher.ts';
import { LocalLauncher } from './local.ts';
import { SlurmLauncher } from './slurm.ts';

export function createLauncher(name: LauncherName, o: { jobs?: number; slurm?: SlurmSettings; queue?: QueueSettings } = {}): Launcher {
  if (name === 'slurm') return new SlurmLauncher(o.slurm ?? null);
  if (name === 'queue') return new QueueLauncher(o.queue ?? null);
  return new LocalLauncher(o.jobs ?? 1);
}

export const launcherOf = (manifest: SweepManifest): Launcher => createLauncher(manifest.launcher ?? 'local');

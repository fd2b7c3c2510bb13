// Where datasets live: --data-dir, else $VDS_DATA_DIR, else ./datasets (relative to the cwd).
import path from 'node:path';

export function resolveDataDir(flag?: string | null): string {
  const chosen = flag || process.env.VDS_DATA_DIR || 'datasets';
  return path.resolve(chosen);
}

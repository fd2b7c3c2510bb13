// vds's own version, from package.json, recorded in every run, checkpoint and report.
import { readFileSync } from 'node:fs';

export const VDS_VERSION: string = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
).version;

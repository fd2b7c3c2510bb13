// npm run bench [-- --backend wasm --depths 10,50 --batch 128 --reps 5 --threads N --recompute auto|on|off|both --json]
// Without --depths: D = 10 and 50 at batch 128, then the paper's largest step, D = 100 at batch 512, with
// residual blocks recomputed and without (one timed step each: a step there takes a minute or more on wasm).
import { parseArgs } from 'node:util';
import { benchCommand } from '../src/commands/bench.ts';
import { VdsError } from '../src/util/errors.ts';
import { RECOMPUTE_MODES, type RecomputeMode } from '../src/train/memory.ts';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'auto' },
    threads: { type: 'string' },
    depths: { type: 'string' },
    batch: { type: 'string', default: '128' },
    reps: { type: 'string', default: '5' },
    recompute: { type: 'string', default: 'auto' },
    json: { type: 'boolean', default: false },
  },
});

const recompute = values.recompute as RecomputeMode | 'both';
if (![...RECOMPUTE_MODES, 'both'].includes(recompute)) {
  console.error(`vds bench: --recompute: expected auto, on, off or both, got "${recompute}"`);
  process.exit(2);
}
const common = { backend: values.backend, threads: values.threads === undefined ? undefined : Number(values.threads), json: values.json! };
const runs = values.depths
  ? [{ depths: values.depths.split(',').map((s) => Number(s.trim())), batch: Number(values.batch), reps: Number(values.reps), recompute }]
  : [
      { depths: [10, 50], batch: Number(values.batch), reps: Number(values.reps), recompute },
      { depths: [100], batch: 512, reps: 1, recompute: 'both' as const },
    ];
try {
  for (const r of runs) await benchCommand({ ...common, ...r });
  process.exit(0);
} catch (e) {
  if (e instanceof VdsError) {
    console.error(`vds bench: ${e.format()}`);
    process.exit(e.exitCode);
  }
  throw e;
}

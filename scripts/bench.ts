// npm run bench [-- --backend wasm --depths 10,50 --batch 128 --reps 5 --threads N --json]
import { parseArgs } from 'node:util';
import { benchCommand } from '../src/commands/bench.ts';
import { VdsError } from '../src/util/errors.ts';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'auto' },
    threads: { type: 'string' },
    depths: { type: 'string', default: '10,50' },
    batch: { type: 'string', default: '128' },
    reps: { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
  },
});

try {
  await benchCommand({
    backend: values.backend,
    threads: values.threads === undefined ? undefined : Number(values.threads),
    depths: values.depths!.split(',').map((s) => Number(s.trim())),
    batch: Number(values.batch),
    reps: Number(values.reps),
    json: values.json!,
  });
  process.exit(0);
} catch (e) {
  if (e instanceof VdsError) {
    console.error(`vds bench: ${e.format()}`);
    process.exit(e.exitCode);
  }
  throw e;
}

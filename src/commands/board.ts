// `vds board [RESULTS_DIR] [--port 6006] [--host 127.0.0.1]`: a live page of the runs and sweeps under a
// results directory, until Ctrl-C. Bound to 127.0.0.1 unless --host says otherwise: on a cluster, reach it
// from a laptop through `ssh -L 6006:127.0.0.1:6006 login-node`.
import { existsSync, realpathSync, statSync } from 'node:fs';
import { startBoard } from '../board/server.ts';
import { EXIT_BUSY, VdsError } from '../util/errors.ts';

export interface BoardOptions {
  resultsDir: string;
  port: number;
  host: string;
}

export async function boardCommand(o: BoardOptions): Promise<void> {
  if (!existsSync(o.resultsDir) || !statSync(o.resultsDir).isDirectory()) {
    throw new VdsError('results directory not found', { file: o.resultsDir, hint: 'pass the directory that `vds train` or `vds sweep` writes (default: results)' });
  }
  let board;
  try {
    board = await startBoard({ root: realpathSync(o.resultsDir), host: o.host, port: o.port });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new VdsError(`port ${o.port} is in use on ${o.host}`, { key: '--port', hint: 'choose another with --port N (0: any free port), or stop what listens there', exitCode: EXIT_BUSY });
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new VdsError(`cannot listen on ${o.host}: no such address on this machine`, { key: '--host' });
    if (code === 'EACCES') throw new VdsError(`not allowed to listen on port ${o.port} (ports below 1024 need root)`, { key: '--port' });
    throw e;
  }
  process.stdout.write(`${board.url}\n`);
  process.stderr.write(`vds board: ${o.resultsDir} at ${board.url} — read-only; Ctrl-C stops it${o.host === '127.0.0.1' ? ' (this machine only; from elsewhere: ssh -L)' : ''}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await board.close();
}

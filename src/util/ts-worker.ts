// Worker threads that run vds's TypeScript: tsx's loader is registered inside the worker before its module
// is imported (a worker does not inherit the parent's --import hooks).
import { Worker } from 'node:worker_threads';

export function startTsWorker(moduleUrl: URL): Worker {
  const api = import.meta.resolve('tsx/esm/api');
  const boot = `import { register } from ${JSON.stringify(api)}; register(); await import(${JSON.stringify(moduleUrl.href)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`));
}

// Worker threads that run vds's TypeScript, and the request/reply protocol vds's workers speak: the parent
// sends one request at a time and gets { ok: true, ... } or { ok: false, error } back; some requests
// (a data-parallel step) get no reply unless they fail.
import { parentPort, Worker } from 'node:worker_threads';

export interface WorkerReply {
  ok: boolean;
  error?: string;
}

/** tsx's loader is registered inside the worker before its module is imported (a worker does not inherit
 * the parent's --import hooks). */
export function startTsWorker(moduleUrl: URL): Worker {
  const api = import.meta.resolve('tsx/esm/api');
  const boot = `import { register } from ${JSON.stringify(api)}; register(); await import(${JSON.stringify(moduleUrl.href)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`));
}

/** The parent's side: a TypeScript worker module and its pending request. */
export class WorkerClient<Msg extends object, Reply extends WorkerReply> {
  private readonly worker: Worker;
  private pending: ((r: Reply) => void) | null = null;
  /** The error of a request that had no pending reply (a fire-and-forget one), or of the worker itself. */
  failure: string | null = null;

  /** `name` prefixes the worker's errors ("eval worker: …"). */
  constructor(moduleUrl: URL, private readonly name: string) {
    this.worker = startTsWorker(moduleUrl);
    this.worker.on('message', (r: Reply) => {
      if (!r.ok && !this.pending) this.failure = r.error ?? 'unknown error';
      this.settle(r);
    });
    this.worker.on('error', (e) => {
      this.failure = e.message;
      this.settle({ ok: false, error: e.message } as Reply);
    });
  }

  private settle(r: Reply): void {
    const p = this.pending;
    this.pending = null;
    p?.(r);
  }

  /** Sends a request and waits for its reply; a failed reply rejects. */
  call(msg: Msg, transfer: ArrayBuffer[] = []): Promise<Reply> {
    if (this.pending) throw new Error(`${this.name}: one request at a time`);
    return new Promise((resolve, reject) => {
      this.pending = (r) => (r.ok ? resolve(r) : reject(new Error(`${this.name}: ${r.error}`)));
      this.worker.postMessage(msg, transfer);
    });
  }

  /** Sends a request that gets no reply unless it fails (see `failure`). */
  post(msg: Msg, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(msg, transfer);
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}

/**
 * The worker's side: answers each request with `handle`'s reply (ok: true added), or nothing when it
 * returns undefined; a thrown error becomes { ok: false, error }, after `onError` has seen it.
 */
export function serveRequests<Msg>(
  handle: (m: Msg) => Promise<{ reply: object; transfer?: ArrayBuffer[] } | undefined>,
  onError?: (message: string) => void,
): void {
  parentPort!.on('message', async (m: Msg) => {
    try {
      const answer = await handle(m);
      if (answer) parentPort!.postMessage({ ok: true, ...answer.reply }, answer.transfer ?? []);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      onError?.(message);
      parentPort!.postMessage({ ok: false, error: message });
    }
  });
}

// Connections to the Redis that holds the queue. Every command first checks that Redis answers, so an
// unreachable or misspelt URL is one clear error naming it; after that, a worker's connection reconnects
// for as long as it takes, and a short-lived command's gives up after a few seconds.
import type { Redis, RedisOptions } from 'ioredis';
import { VdsError } from '../util/errors.ts';

export const REDIS_ENV = 'VDS_REDIS_URL';

/** The URL from --redis or $VDS_REDIS_URL, checked for shape. */
export function redisUrl(given: string | undefined, fallback?: string): string {
  const url = given ?? process.env[REDIS_ENV] ?? fallback;
  if (!url) throw new VdsError(`needs the Redis that holds the queue: --redis redis://HOST:PORT (or $${REDIS_ENV})`, { key: '--redis' });
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new VdsError(`expected a URL like redis://HOST:PORT, got ${JSON.stringify(url)}`, { key: '--redis' });
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new VdsError(`expected a redis:// or rediss:// URL, got ${JSON.stringify(url)}`, { key: '--redis' });
  }
  return url;
}

/** The URL without its password, for messages and for files other people read. */
export function redactUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '';
  return u.toString().replace(/\/$/, '');
}

export const hasPassword = (url: string): boolean => new URL(url).password !== '';

type Purpose = 'worker' | 'command';

const OPTIONS: Record<Purpose, RedisOptions> = {
  // BullMQ's workers need maxRetriesPerRequest null (a blocking wait for jobs must not time out);
  // reconnect forever, backing off to 5 s: a worker outlives a Redis restart or a network cut
  worker: { maxRetriesPerRequest: null, retryStrategy: (times) => Math.min(times * 500, 5000) },
  // status, cancel and sending a sweep: fail after ~2 s rather than hang
  command: { maxRetriesPerRequest: 2, retryStrategy: (times) => (times > 3 ? null : 500) },
};

/**
 * A connected client, or a VdsError naming the URL. `name` is what Redis's CLIENT LIST shows; `onError`
 * sees the connection's later errors (without a listener ioredis would print them itself).
 */
export async function connectRedis(url: string, purpose: Purpose, o: { name?: string; onError?: (e: Error) => void } = {}): Promise<Redis> {
  const { Redis } = await import('ioredis'); // loaded only by the commands that talk to Redis
  const probe = new Redis(url, { lazyConnect: true, connectTimeout: 5000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  let cause: unknown = null; // ioredis rejects with "Connection is closed."; the 'error' event says why
  probe.on('error', (e) => (cause ??= e));
  try {
    await probe.connect();
    await probe.ping();
  } catch (e) {
    throw new VdsError(`cannot reach Redis at ${redactUrl(url)} (${reason(cause ?? e)})`, {
      key: '--redis',
      hint: 'is redis-server running there and reachable from this machine? (check host, port, password)',
    });
  } finally {
    probe.disconnect();
  }
  const client = new Redis(url, { ...OPTIONS[purpose], connectionName: o.name ?? 'vds' });
  client.on('error', o.onError ?? (() => undefined));
  return client;
}

function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException & { errors?: Error[] };
  // Node reports a refused localhost as an AggregateError (IPv4 and IPv6 both refused)
  const first = err.errors?.[0] as NodeJS.ErrnoException | undefined;
  return first?.code ?? err.code ?? err.message ?? String(e);
}

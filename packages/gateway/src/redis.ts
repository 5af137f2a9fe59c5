/**
 * Redis connections (scale-out). An instance has one command connection, shared by the pub/sub
 * publisher and the rate limiter, and one subscriber connection (pubsub/redis-channels.ts).
 * Commands fail at once while Redis is unreachable instead of queueing until it is back: a
 * publish or a rate check waiting out an outage would stall the job engine and every request.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './domain/logger.ts';

export type { Redis, RedisOptions };

/** How long a command may go unanswered, e.g. over a connection that died without a word. */
const COMMAND_TIMEOUT_MS = 5_000;

const COMMAND_CONNECTION: RedisOptions = {
  enableOfflineQueue: false,
  // A command in flight when the connection drops fails then, instead of being re-sent later.
  maxRetriesPerRequest: 0,
  commandTimeout: COMMAND_TIMEOUT_MS,
};

/** The URL without its password, for messages and logs. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(an unparsable Redis URL)';
  }
}

export interface ConnectRedisOptions {
  logger?: Logger | undefined;
  /** For log lines, e.g. 'commands'. */
  role?: string | undefined;
  /** ioredis options over the gateway's (tests shorten `retryStrategy`). */
  redis?: RedisOptions | undefined;
}

/**
 * Connects to `url` and resolves once Redis answers; rejects with the reason when it cannot
 * (nothing keeps retrying then). Once connected, ioredis reconnects by itself after any drop.
 */
export async function connectRedis(url: string, options: ConnectRedisOptions = {}): Promise<Redis> {
  const client = new Redis(url, { ...COMMAND_CONNECTION, ...options.redis, lazyConnect: true });
  return awaitReady(client, redactRedisUrl(url), options);
}

/** A new connection with `client`'s settings and `overrides`, once it is ready. */
export async function duplicateRedis(
  client: Redis,
  overrides: RedisOptions,
  options: ConnectRedisOptions = {},
): Promise<Redis> {
  const duplicate = client.duplicate({ ...overrides, lazyConnect: true });
  const { host, port } = client.options;
  return awaitReady(duplicate, `${host}:${port}`, options);
}

async function awaitReady(
  client: Redis,
  where: string,
  options: ConnectRedisOptions,
): Promise<Redis> {
  const log = options.logger?.child({ component: 'redis', role: options.role ?? 'commands' });
  let lastError: Error | undefined;
  // Without a listener ioredis prints every failed attempt; the outage is logged once below.
  client.on('error', (error: Error) => {
    lastError = error;
  });
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    const reason = (lastError ?? (error as Error)).message;
    throw new Error(`Redis at ${where} is unreachable: ${reason}`);
  }
  let down = false;
  client.on('reconnecting', () => {
    if (down) return;
    down = true;
    log?.warn({ err: lastError?.message }, 'Redis connection lost; reconnecting');
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    lastError = undefined;
    log?.info({}, 'Redis connection restored');
  });
  return client;
}

/** True when `client` answers PING within `timeoutMs` (for /readyz). */
export async function pingRedis(client: Redis, timeoutMs = 1_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([client.ping().then((reply) => reply === 'PONG'), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Rate limits shared by every gateway instance: the memory limiter's GCRA (rate-limiter.ts),
 * run as one Lua script per request on Redis, so the read and the write of a bucket are atomic
 * across instances and the clock is Redis's own `TIME`, the same for all of them. One key per
 * bucket holds its TAT (theoretical arrival time, ms); it expires when the bucket is full again,
 * which is the same as never seen. ioredis sends the script by EVALSHA, falling back to EVAL
 * when Redis does not have it cached yet.
 */
import { pingRedis, type Redis } from '../redis.ts';
import { MINUTE_MS, type RateDecision, type RateLimiter, REFUSE_ALL } from './rate-limiter.ts';

export interface RedisRateLimiterOptions {
  /** A command connection (connectRedis); its owner closes it. */
  client: Redis;
  /** Starts every bucket's key, so that deployments (and tests) sharing a Redis stay apart. */
  keyPrefix: string;
}

export interface RedisRateLimiter extends RateLimiter {
  /** True when Redis answers (for /readyz). */
  ping(): Promise<boolean>;
}

/**
 * KEYS[1]: the bucket. ARGV[1]: ms between requests (a minute / the limit), ARGV[2]: a minute
 * in ms. Returns {1} when admitted, {0, retryAfterSeconds} when refused; a refused request
 * changes nothing. Redis 5 or newer (a write after TIME needs effects replication).
 */
const GCRA_SCRIPT = `
local interval = tonumber(ARGV[1])
local minute = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local tat = math.max(tonumber(redis.call('GET', KEYS[1])) or now, now)
local allowed_from = tat + interval - minute
if now < allowed_from then
  return {0, math.ceil((allowed_from - now) / 1000)}
end
local next_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.17g', next_tat), 'PX', math.max(1, math.ceil(next_tat - now)))
return {1}
`;

const COMMAND = 'zimageGcra';

type GcraClient = Redis & {
  [COMMAND](bucket: string, intervalMs: number, minuteMs: number): Promise<[0 | 1, number?]>;
};

export function createRedisRateLimiter(options: RedisRateLimiterOptions): RedisRateLimiter {
  const { client, keyPrefix } = options;
  client.defineCommand(COMMAND, { numberOfKeys: 1, lua: GCRA_SCRIPT });
  const gcra = client as GcraClient;
  return {
    async consume(bucketKey, perMinute): Promise<RateDecision> {
      if (!(perMinute > 0)) return REFUSE_ALL;
      const [admitted, retryAfterSeconds] = await gcra[COMMAND](
        keyPrefix + bucketKey,
        MINUTE_MS / perMinute,
        MINUTE_MS,
      );
      return admitted === 1
        ? { allowed: true }
        : { allowed: false, retryAfterSeconds: retryAfterSeconds as number };
    },
    ping: () => pingRedis(client),
  };
}

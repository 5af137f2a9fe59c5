/**
 * Request rate limits per key and per end user. The embedded default is in memory; the Redis
 * one (redis-rate-limiter.ts, shared by every gateway instance) runs the same algorithm in a
 * script and the same suite (test/rate-limiter.suite.ts).
 *
 * Algorithm: GCRA (the generic cell rate algorithm), a token bucket stored as one number per
 * bucket, the "theoretical arrival time" (TAT). A limit of N per minute admits a burst of N,
 * then one request every 60/N seconds. One number per bucket keeps memory small and maps to a
 * single atomic Redis script later; an exact sliding log would store up to N timestamps.
 */

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface RateLimiter {
  /** Counts one request against `bucketKey`, unless the bucket is already empty. */
  consume(bucketKey: string, perMinute: number): Promise<RateDecision>;
}

export const MINUTE_MS = 60_000;

/** The answer for a limit of zero (or less): every request is refused. */
export const REFUSE_ALL: RateDecision = { allowed: false, retryAfterSeconds: MINUTE_MS / 1000 };

export interface MemoryRateLimiterOptions {
  /** Buckets kept at most; idle ones go first, then the least recently admitted. */
  maxBuckets?: number;
  /** Clock in milliseconds (tests step it by hand). */
  now?: () => number;
}

/**
 * In-process limiter. A bucket whose TAT has passed is full again, exactly like a bucket
 * never seen, so forgetting it changes nothing: idle buckets are dropped when the map is full.
 * Past `maxBuckets` busy buckets (a flood of distinct keys), the least recently admitted is
 * dropped too, which can only let that bucket's owner through early; memory stays bounded.
 */
export function createMemoryRateLimiter(options: MemoryRateLimiterOptions = {}): RateLimiter {
  const maxBuckets = options.maxBuckets ?? 10_000;
  const now = options.now ?? Date.now;
  /** bucket key → TAT in ms; Map order is least recently admitted first. */
  const tats = new Map<string, number>();

  const makeRoom = (at: number) => {
    if (tats.size < maxBuckets) return;
    for (const [key, tat] of tats) if (tat <= at) tats.delete(key);
    for (const key of tats.keys()) {
      if (tats.size < maxBuckets) break;
      tats.delete(key);
    }
  };

  return {
    async consume(bucketKey, perMinute) {
      if (!(perMinute > 0)) return REFUSE_ALL;
      const at = now();
      const interval = MINUTE_MS / perMinute;
      const tat = Math.max(tats.get(bucketKey) ?? at, at);
      // Admit while the bucket's debt stays within one minute's worth of requests.
      const allowedFrom = tat + interval - MINUTE_MS;
      if (at < allowedFrom) {
        return { allowed: false, retryAfterSeconds: Math.ceil((allowedFrom - at) / 1000) };
      }
      tats.delete(bucketKey);
      makeRoom(at);
      tats.set(bucketKey, tat + interval);
      return { allowed: true };
    },
  };
}

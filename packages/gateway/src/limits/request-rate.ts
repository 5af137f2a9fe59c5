/**
 * The per-request rate check: a key's `requestsPerMinute`, and its `endUserLimits` for the end
 * user it acts for. Bucket names are shared by every limiter (memory or Redis), so instances
 * sharing a Redis count the same requests.
 */
import type { Principal } from '../domain/principal.ts';
import { rateLimited } from '../errors.ts';
import type { RateLimiter } from './rate-limiter.ts';

export const rateBuckets = {
  key: (keyId: string) => `rate:key:${keyId}`,
  endUser: (keyId: string, endUserId: string) => `rate:key:${keyId}:user:${endUserId}`,
} as const;

/**
 * Throws RATE_LIMITED (with retryAfterSeconds) past a limit. The end user is checked first: an
 * end user over their own limit is refused without using up the key's shared allowance, so
 * one noisy user of a bot cannot lock out the others.
 */
export async function enforceRequestRate(
  limiter: RateLimiter,
  principal: Principal,
): Promise<void> {
  const { key, endUserId } = principal;
  const endUserRpm = key.endUserLimits.requestsPerMinute;
  if (endUserId !== null && endUserRpm !== null) {
    const decision = await limiter.consume(rateBuckets.endUser(key.id, endUserId), endUserRpm);
    if (!decision.allowed) {
      throw rateLimited(
        decision.retryAfterSeconds,
        `Rate limit of ${endUserRpm} requests per minute reached for this end user`,
      );
    }
  }
  const keyRpm = key.limits.requestsPerMinute;
  if (keyRpm !== null) {
    const decision = await limiter.consume(rateBuckets.key(key.id), keyRpm);
    if (!decision.allowed) {
      throw rateLimited(
        decision.retryAfterSeconds,
        `Rate limit of ${keyRpm} requests per minute reached for this API key`,
      );
    }
  }
}

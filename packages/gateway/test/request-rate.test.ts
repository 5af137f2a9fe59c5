import { describe, expect, it } from 'vitest';
import { NO_LIMITS } from '../src/auth/api-keys.ts';
import type { Principal } from '../src/domain/principal.ts';
import type { GatewayError } from '../src/errors.ts';
import { createMemoryRateLimiter } from '../src/limits/rate-limiter.ts';
import { enforceRequestRate } from '../src/limits/request-rate.ts';

const principal = (
  endUserId: string | null,
  keyRpm: number | null,
  endUserRpm: number | null,
): Principal => ({
  key: {
    id: 'key_1',
    name: 'bot',
    secretHash: 'h',
    prefix: 'zk_abcd',
    scopes: ['generate', 'act-as'],
    limits: { ...NO_LIMITS, requestsPerMinute: keyRpm },
    endUserLimits: { ...NO_LIMITS, requestsPerMinute: endUserRpm },
    createdAt: new Date(0),
    lastUsedAt: null,
    revokedAt: null,
  },
  endUserId,
});

const refusal = (promise: Promise<void>) =>
  promise.then(
    () => null,
    (error: GatewayError) => error,
  );

describe('enforceRequestRate', () => {
  it('limits the key as a whole', async () => {
    const limiter = createMemoryRateLimiter();
    await enforceRequestRate(limiter, principal(null, 2, null));
    await enforceRequestRate(limiter, principal('alice', 2, null));
    const error = await refusal(enforceRequestRate(limiter, principal('bob', 2, null)));
    expect(error?.code).toBe('RATE_LIMITED');
    expect(error?.message).toMatch(
      /^Rate limit of 2 requests per minute reached for this API key; retry in \d+ s$/,
    );
    expect(error?.extensions.retryAfterSeconds).toBeGreaterThanOrEqual(1);
  });

  it('limits each end user without using up the key for the others', async () => {
    const limiter = createMemoryRateLimiter();
    await enforceRequestRate(limiter, principal('alice', 3, 1));
    for (let i = 0; i < 5; i++) {
      const error = await refusal(enforceRequestRate(limiter, principal('alice', 3, 1)));
      expect(error?.message).toMatch(/for this end user/);
    }
    await enforceRequestRate(limiter, principal('bob', 3, 1));
    await enforceRequestRate(limiter, principal(null, 3, 1));
    expect((await refusal(enforceRequestRate(limiter, principal('carol', 3, 1))))?.message).toMatch(
      /for this API key/,
    );
  });

  it('lets everything through without limits', async () => {
    const limiter = createMemoryRateLimiter();
    for (let i = 0; i < 100; i++) await enforceRequestRate(limiter, principal('alice', null, null));
  });
});

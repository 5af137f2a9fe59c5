import { describe, expect, it, vi } from 'vitest';
import { RateLimiter } from '../src/rate-limit.ts';
import {
  CLOCK_WAIT,
  getStatus,
  KEY,
  SEED_TURBO_FULL_EXAMPLE,
  startSim,
  submit,
  submitOk,
} from './helpers.ts';

describe('RateLimiter', () => {
  it('allows `requests` per sliding window per key, then says how long to wait', () => {
    const limiter = new RateLimiter({ requests: 2, windowMs: 1000 });
    expect(limiter.take('a', 0)).toBe(0);
    expect(limiter.take('a', 400)).toBe(0);
    expect(limiter.take('a', 500)).toBe(500);
    expect(limiter.take('b', 500)).toBe(0);
    expect(limiter.take('a', 1000)).toBe(0);
    expect(limiter.take('a', 1100)).toBe(300);
  });

  it('never limits when there is no limit', () => {
    const limiter = new RateLimiter(null);
    for (let i = 0; i < 1000; i++) expect(limiter.take('a', 0)).toBe(0);
  });
});

describe('per-key rate limit over HTTP', () => {
  it('answers 429 with Retry-After past the rate, counting submits and status reads', async () => {
    const sim = await startSim({
      keys: { [KEY]: 5, other: 5 },
      rateLimit: { requests: 3, windowMs: 30_000 },
    });
    const { request_id } = await submitOk(sim, SEED_TURBO_FULL_EXAMPLE);
    expect((await getStatus(sim, request_id)).status).toBe(200);
    expect((await submit(sim, SEED_TURBO_FULL_EXAMPLE)).status).toBe(202);

    const limited = await submit(sim, SEED_TURBO_FULL_EXAMPLE);
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(30);
    expect(await limited.json()).toEqual({
      statusCode: 429,
      message: `Rate limit is exceeded. Try again in ${retryAfter} seconds.`,
    });
    expect((await getStatus(sim, request_id)).status).toBe(429);
    expect(sim.jobs()).toHaveLength(2);

    // Another key has its own window.
    expect((await submit(sim, SEED_TURBO_FULL_EXAMPLE, { key: 'other' })).status).toBe(202);
  });

  it('lets requests through again once the window has passed', async () => {
    // A window wide enough that the second request falls inside it on a busy machine too.
    const sim = await startSim({ rateLimit: { requests: 1, windowMs: 1000 } });
    expect((await submit(sim, SEED_TURBO_FULL_EXAMPLE)).status).toBe(202);
    expect((await submit(sim, SEED_TURBO_FULL_EXAMPLE)).status).toBe(429);
    await vi.waitFor(
      async () => expect((await submit(sim, SEED_TURBO_FULL_EXAMPLE)).status).toBe(202),
      CLOCK_WAIT,
    );
    expect(sim.jobs()).toHaveLength(2);
  });
});

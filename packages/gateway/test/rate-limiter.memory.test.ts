import { describe, expect, it } from 'vitest';
import { createMemoryRateLimiter } from '../src/limits/rate-limiter.ts';
import { describeRateLimiterSuite } from './rate-limiter.suite.ts';

describeRateLimiterSuite('memory', () => createMemoryRateLimiter());

describe('memory rate limiter over time', () => {
  const clock = () => {
    const state = { now: 1_000_000 };
    return { state, now: () => state.now };
  };

  it('refills one request per interval after a burst', async () => {
    const { state, now } = clock();
    const limiter = createMemoryRateLimiter({ now });
    for (let i = 0; i < 6; i++) await limiter.consume('k', 6);
    expect(await limiter.consume('k', 6)).toEqual({ allowed: false, retryAfterSeconds: 10 });

    state.now += 9_999;
    expect(await limiter.consume('k', 6)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    state.now += 1;
    expect(await limiter.consume('k', 6)).toEqual({ allowed: true });
    expect(await limiter.consume('k', 6)).toMatchObject({ allowed: false });

    state.now += 60_000;
    for (let i = 0; i < 6; i++) expect(await limiter.consume('k', 6)).toEqual({ allowed: true });
  });

  it('does not count refused requests', async () => {
    const { state, now } = clock();
    const limiter = createMemoryRateLimiter({ now });
    await limiter.consume('k', 1);
    for (let i = 0; i < 10; i++) await limiter.consume('k', 1);
    state.now += 60_000;
    expect(await limiter.consume('k', 1)).toEqual({ allowed: true });
  });

  it('bounds memory by dropping idle buckets first, then the least recently used', async () => {
    const { state, now } = clock();
    const limiter = createMemoryRateLimiter({ now, maxBuckets: 2 });
    await limiter.consume('idle', 60);
    state.now += 1_000; // 'idle' is full again: forgetting it changes nothing.
    await limiter.consume('old', 1);
    await limiter.consume('new', 1);
    expect(await limiter.consume('old', 1)).toMatchObject({ allowed: false });
    expect(await limiter.consume('new', 1)).toMatchObject({ allowed: false });

    // A third busy bucket pushes out the least recently used one ('old'), whose next
    // request then counts as a first one.
    await limiter.consume('third', 1);
    expect(await limiter.consume('new', 1)).toMatchObject({ allowed: false });
    expect(await limiter.consume('old', 1)).toEqual({ allowed: true });
  });
});

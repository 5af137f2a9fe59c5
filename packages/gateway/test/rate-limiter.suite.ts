/**
 * The behaviour every RateLimiter must show, whatever holds its buckets and whatever its clock
 * (the memory limiter's own, Redis's TIME): bursts are judged at one instant, the one refill is
 * awaited as the fact itself, and no duration is asserted. Each test uses fresh bucket names,
 * so that a shared backend (Redis) needs no reset between tests.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import type { RateDecision, RateLimiter } from '../src/limits/rate-limiter.ts';

export function describeRateLimiterSuite(
  name: string,
  createLimiter: () => RateLimiter | Promise<RateLimiter>,
): void {
  describe(`RateLimiter: ${name}`, () => {
    const bucket = () => `test:${randomUUID()}`;

    const consumeMany = async (limiter: RateLimiter, key: string, perMinute: number, n: number) => {
      const decisions = [];
      for (let i = 0; i < n; i++) decisions.push(await limiter.consume(key, perMinute));
      return decisions;
    };

    it('admits a burst of the per-minute limit, then refuses with a retry hint', async () => {
      const limiter = await createLimiter();
      const key = bucket();
      const decisions = await consumeMany(limiter, key, 10, 12);

      expect(decisions.slice(0, 10)).toEqual(Array(10).fill({ allowed: true }));
      for (const refused of decisions.slice(10)) {
        expect(refused.allowed).toBe(false);
        const { retryAfterSeconds } = refused as { retryAfterSeconds: number };
        expect(Number.isInteger(retryAfterSeconds)).toBe(true);
        expect(retryAfterSeconds).toBeGreaterThanOrEqual(1);
        expect(retryAfterSeconds).toBeLessThanOrEqual(60);
      }
    });

    it('keeps buckets apart', async () => {
      const limiter = await createLimiter();
      const [a, b] = [bucket(), bucket()];
      await consumeMany(limiter, a, 2, 2);
      expect(await limiter.consume(a, 2)).toMatchObject({ allowed: false });
      expect(await limiter.consume(b, 2)).toEqual({ allowed: true });
    });

    it('suggests waiting about one interval at a low limit', async () => {
      const limiter = await createLimiter();
      const key = bucket();
      expect(await limiter.consume(key, 1)).toEqual({ allowed: true });
      const refused = await limiter.consume(key, 1);
      expect(refused).toMatchObject({ allowed: false });
      expect((refused as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThan(50);
    });

    it('does not count refused requests against the wait', async () => {
      const limiter = await createLimiter();
      const key = bucket();
      expect(await limiter.consume(key, 1)).toEqual({ allowed: true });
      const refused = await consumeMany(limiter, key, 1, 10);
      const hints = refused.map((d) => (d as { retryAfterSeconds: number }).retryAfterSeconds);
      expect(refused.every((d) => !d.allowed)).toBe(true);
      // Counted, ten refusals would have pushed the wait to eleven minutes.
      expect(Math.max(...hints)).toBeLessThanOrEqual(60);
      expect(hints).toEqual([...hints].sort((a, b) => b - a));
    });

    it('admits again once an interval has passed, one request per interval', async () => {
      const limiter = await createLimiter();
      const key = bucket();
      // 30 per minute: a burst of 30, then one every 2 s. Emptied however slowly it goes.
      let decision: RateDecision;
      do decision = await limiter.consume(key, 30);
      while (decision.allowed);
      expect(decision.retryAfterSeconds).toBeLessThanOrEqual(2);
      await vi.waitFor(
        async () => expect(await limiter.consume(key, 30)).toEqual({ allowed: true }),
        { timeout: 10_000, interval: 100 },
      );
      expect(await limiter.consume(key, 30)).toMatchObject({ allowed: false });
    });

    it('refuses everything for a non-positive limit', async () => {
      const limiter = await createLimiter();
      expect(await limiter.consume(bucket(), 0)).toEqual({ allowed: false, retryAfterSeconds: 60 });
      expect(await limiter.consume(bucket(), -1)).toEqual({
        allowed: false,
        retryAfterSeconds: 60,
      });
    });

    it('never lets simultaneous requests past the limit', async () => {
      const limiter = await createLimiter();
      const key = bucket();
      const decisions = await Promise.all(
        Array.from({ length: 50 }, () => limiter.consume(key, 20)),
      );
      expect(decisions.filter((d) => d.allowed)).toHaveLength(20);
    });
  });
}

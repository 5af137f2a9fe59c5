/**
 * The behaviour every RateLimiter must show, whatever holds its buckets. Nothing here waits
 * for time to pass (no timed assertions): bursts are judged at one instant, and each test uses
 * fresh bucket names so that a shared backend (Redis) needs no reset between tests.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { RateLimiter } from '../src/limits/rate-limiter.ts';

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

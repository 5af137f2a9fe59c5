/**
 * Pixazo's per-key request rate, as a sliding window: a key may make `requests` requests in any
 * `windowMs`. Only allowed requests count, and only known keys reach it, so memory is bounded
 * by keys × `requests`.
 */
export interface RateLimit {
  requests: number;
  windowMs: number;
}

export class RateLimiter {
  readonly #limit: RateLimit | null;
  readonly #hits = new Map<string, number[]>();

  constructor(limit: RateLimit | null) {
    this.#limit = limit;
  }

  /** Records a request by `keyId` at `now`: 0 when allowed, else the milliseconds to wait. */
  take(keyId: string, now: number): number {
    if (!this.#limit) return 0;
    const { requests, windowMs } = this.#limit;
    const hits = (this.#hits.get(keyId) ?? []).filter((t) => t > now - windowMs);
    this.#hits.set(keyId, hits);
    const oldest = hits[0];
    if (hits.length >= requests && oldest !== undefined) return oldest + windowMs - now;
    hits.push(now);
    return 0;
  }

  reset(): void {
    this.#hits.clear();
  }
}

/**
 * Bounded retries with exponential backoff and full jitter (delay uniform in
 * [0, min(maxDelay, base·2^n)]), so many clients recovering from the same outage do not retry
 * in lockstep. A server's Retry-After is a lower bound on the wait, and one longer than
 * `maxRetryAfterMs` ends the retries at once instead of parking the caller.
 */
import { RateLimitedError } from './errors.ts';
import { abortErrorFrom } from './signal.ts';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** Backoff before the n-th retry is drawn from [0, min(maxDelayMs, baseDelayMs·2^(n−1))]. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** No retry starts if its wait would end more than this long after the first attempt began. */
  maxElapsedMs: number;
  /** The longest Retry-After honoured; a longer one fails at once with RateLimitedError. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = {
  maxAttempts: 5,
  baseDelayMs: 250,
  maxDelayMs: 8_000,
  maxElapsedMs: 60_000,
  maxRetryAfterMs: 30_000,
};

/** Waits `ms`; rejects with the signal's typed error (AbortError or TimeoutError) when it aborts. */
export type SleepFn = (ms: number, signal?: AbortSignal) => Promise<void>;

export const sleep: SleepFn = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortErrorFrom(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortErrorFrom(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** Full-jitter backoff before retry number `retry` (1 = the first retry). */
export function backoffDelayMs(
  retry: number,
  policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.floor(random() * ceiling);
}

/**
 * A Retry-After header in milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3).
 * undefined when absent or unreadable.
 */
export function parseRetryAfterMs(
  value: string | null | undefined,
  now = Date.now(),
): number | undefined {
  if (value == null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

export interface RetryContext {
  policy: RetryPolicy;
  random: () => number;
  sleep: SleepFn;
  signal?: AbortSignal | undefined;
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
}

/**
 * Runs `operation` until it succeeds, fails with an error `isRetryable` rejects, or the policy
 * is spent; then the last error is thrown as it was. Aborts (the caller's or a deadline) are
 * never retried: a retryable failure under an aborted signal surfaces as the abort.
 */
export async function retrying<T>(
  operation: (attempt: number) => Promise<T>,
  isRetryable: (error: unknown) => boolean,
  context: RetryContext,
): Promise<T> {
  const { policy, signal } = context;
  const startedAt = performance.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (!isRetryable(error) || attempt >= policy.maxAttempts) throw error;
      if (signal?.aborted) throw abortErrorFrom(signal);
      const retryAfterMs = error instanceof RateLimitedError ? error.retryAfterMs : undefined;
      if (retryAfterMs !== undefined && retryAfterMs > policy.maxRetryAfterMs) throw error;
      const delayMs = Math.max(retryAfterMs ?? 0, backoffDelayMs(attempt, policy, context.random));
      if (performance.now() - startedAt + delayMs > policy.maxElapsedMs) throw error;
      context.onRetry?.({ attempt, delayMs, error });
      await context.sleep(delayMs, signal);
    }
  }
}

import { describe, expect, it } from 'vitest';
import {
  AbortError,
  backoffDelayMs,
  DEFAULT_POLL_SCHEDULE,
  expectedDurationOf,
  MODELS,
  parseRetryAfterMs,
  pollDelayMs,
  sleep,
  TimeoutError,
} from '../src/index.ts';

describe('backoffDelayMs (full jitter)', () => {
  const policy = { baseDelayMs: 100, maxDelayMs: 1000 };

  it('spans [0, base·2^(n−1)] and is capped at maxDelayMs', () => {
    expect(backoffDelayMs(1, policy, () => 0)).toBe(0);
    expect(backoffDelayMs(1, policy, () => 0.999999)).toBe(99);
    expect(backoffDelayMs(3, policy, () => 0.5)).toBe(200);
    expect(backoffDelayMs(10, policy, () => 0.999999)).toBe(999);
  });
});

describe('parseRetryAfterMs', () => {
  it('reads delta-seconds and HTTP dates, ignores junk', () => {
    expect(parseRetryAfterMs('3')).toBe(3000);
    expect(parseRetryAfterMs(' 0 ')).toBe(0);
    const now = Date.parse('2026-03-31T10:00:00Z');
    expect(parseRetryAfterMs('Tue, 31 Mar 2026 10:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfterMs('Tue, 31 Mar 2026 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfterMs('soon')).toBeUndefined();
    expect(parseRetryAfterMs(null)).toBeUndefined();
  });
});

describe('sleep', () => {
  it('rejects with AbortError when the signal aborts mid-sleep', async () => {
    const controller = new AbortController();
    const pending = sleep(60_000, controller.signal);
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(AbortError);
  });

  it("rejects with the signal's own PixazoError reason (a deadline)", async () => {
    const controller = new AbortController();
    controller.abort(new TimeoutError('deadline'));
    await expect(sleep(10, controller.signal)).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: 'deadline',
    });
  });
});

describe('pollDelayMs', () => {
  it('reads near the expected end, then backs off ×1.5 from a quarter of it to the 8 s cap', () => {
    const delays = [0, 1, 2, 3, 4, 5].map((n) => pollDelayMs(n, 20_000));
    expect(delays).toEqual([8000, 2000, 3000, 5000, 7500, 8000]);
    // Turbo (2.8 s): the gaps near the end are floored at the 1 s minimum.
    expect([0, 1, 2, 3].map((n) => pollDelayMs(n, 2800))).toEqual([2520, 1000, 1000, 1000]);
  });

  it('caps the first poll for long jobs and floors it for tiny ones', () => {
    expect(pollDelayMs(0, 60_000)).toBe(DEFAULT_POLL_SCHEDULE.maxIntervalMs);
    expect(pollDelayMs(0, 10)).toBe(DEFAULT_POLL_SCHEDULE.minIntervalMs);
  });

  it('honours an explicit schedule', () => {
    const schedule = {
      firstDelayMs: 20,
      nearEnd: [],
      factor: 2,
      minIntervalMs: 5,
      maxIntervalMs: 50,
    };
    expect([0, 1, 2, 3].map((n) => pollDelayMs(n, 99_999, schedule))).toEqual([20, 40, 50, 50]);
    const marks = { ...DEFAULT_POLL_SCHEDULE, nearEnd: [0.5, 1], minIntervalMs: 1 };
    expect([0, 1, 2].map((n) => pollDelayMs(n, 4000, marks))).toEqual([2000, 2000, 1000]);
  });
});

describe('expectedDurationOf', () => {
  it('uses the params when given, else the request id prefix with model defaults', () => {
    const turboDefault = expectedDurationOf('z-image-turbo-834_abc');
    expect(turboDefault).toBe(MODELS.turbo.timing.queueMs + 8 * MODELS.turbo.timing.perStepMs);
    const base = expectedDurationOf('whatever', {
      model: 'base',
      numInferenceSteps: 10,
      numImages: 1,
      acceleration: 'fast',
    });
    expect(base).toBe(2000 + 700 * 10 * 0.7);
    expect(expectedDurationOf('unknown-model_abc')).toBeUndefined();
  });
});

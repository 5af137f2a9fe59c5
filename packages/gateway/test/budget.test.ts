import { describe, expect, it } from 'vitest';
import { formatUsd } from '../src/domain/money.ts';
import { admissionError, utcDay } from '../src/limits/budget.ts';

describe('utcDay', () => {
  it('is the UTC calendar day, whatever the local time zone', () => {
    expect(utcDay(new Date('2025-06-01T23:59:59.999Z'))).toBe('2025-06-01');
    expect(utcDay(new Date('2025-06-02T00:00:00.000Z'))).toBe('2025-06-02');
    expect(utcDay(new Date('2025-06-01T23:30:00-05:00'))).toBe('2025-06-02');
  });
});

describe('formatUsd', () => {
  it.each([
    [0, '$0.00'],
    [8000, '$0.008'],
    [10_000, '$0.01'],
    [5_000_000, '$5.00'],
    [1_234_567, '$1.234567'],
  ])('formats %i micro-USD as %s', (micro, text) => {
    expect(formatUsd(micro)).toBe(text);
  });
});

describe('admissionError', () => {
  it('explains a refused budget in USD', () => {
    const error = admissionError(
      {
        kind: 'budget_exceeded',
        scope: 'endUser',
        period: 'day',
        spentMicroUsd: 16_000,
        budgetMicroUsd: 20_000,
      },
      8000,
    );
    expect(error.code).toBe('BUDGET_EXCEEDED');
    expect(error.message).toBe(
      'Daily budget of this end user exceeded: spent $0.016 of $0.02 today (UTC), and this job costs $0.008',
    );
    expect(error.extensions).toEqual({
      code: 'BUDGET_EXCEEDED',
      scope: 'endUser',
      spentTodayUsd: 0.016,
      dailyBudgetUsd: 0.02,
      jobCostUsd: 0.008,
    });
  });

  it('turns full job slots into RATE_LIMITED with a retry hint', () => {
    const error = admissionError(
      { kind: 'too_many_jobs', scope: 'key', inFlight: 3, max: 3 },
      8000,
    );
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.message).toBe(
      'Too many jobs for this API key: 3 jobs in flight (max 3); retry in 5 s',
    );
    expect(error.extensions).toEqual({
      code: 'RATE_LIMITED',
      scope: 'key',
      inFlight: 3,
      maxConcurrentJobs: 3,
      retryAfterSeconds: 5,
    });
  });
});

/**
 * The admission policy on its own, without a store: which scopes are weighed, and in which
 * order its answers come. test/store.suite.ts checks that a store reads the right facts.
 */
import { describe, expect, it } from 'vitest';
import { NO_LIMITS } from '../src/auth/api-keys.ts';
import {
  type AdmissionFacts,
  type AdmissionRequest,
  admissionScopes,
  decideAdmission,
  type Usage,
} from '../src/domain/admission.ts';
import type { JobRecord } from '../src/domain/job.ts';
import type { KeyLimits } from '../src/domain/principal.ts';
import { DAY, newJob } from './fixtures/records.ts';

const KEY = { id: 'key_1' };
const limits = (overrides: Partial<KeyLimits>): KeyLimits => ({ ...NO_LIMITS, ...overrides });
const usage = (
  spentMicroUsd: number,
  jobsInFlight: number,
  spentThisMonthMicroUsd = spentMicroUsd,
): Usage => ({ spentMicroUsd, spentThisMonthMicroUsd, jobsInFlight });
const IDLE = usage(0, 0);

/** A job of $0.008 for the end user alice, admitted with these limits. */
function request(keyLimits: KeyLimits, endUserLimits: KeyLimits | null = null): AdmissionRequest {
  return { job: newJob(KEY, { endUserId: 'alice' }), day: DAY, keyLimits, endUserLimits };
}

const facts = (given: Partial<AdmissionFacts>): AdmissionFacts => ({
  existing: null,
  usage: {},
  ...given,
});

describe('admissionScopes', () => {
  it('weighs the key, then the end user, each against its own owner', () => {
    const keyLimits = limits({ maxConcurrentJobs: 5 });
    const endUserLimits = limits({ dailyBudgetMicroUsd: 100 });
    expect(admissionScopes(request(keyLimits, endUserLimits))).toEqual([
      {
        scope: 'key',
        owner: { keyId: 'key_1', endUserId: null },
        limits: keyLimits,
        monthlyBudgetMicroUsd: null,
      },
      {
        scope: 'endUser',
        owner: { keyId: 'key_1', endUserId: 'alice' },
        limits: endUserLimits,
        monthlyBudgetMicroUsd: null,
      },
    ]);
  });

  it('leaves out scopes without a limit, so nothing is read for them', () => {
    expect(admissionScopes(request(NO_LIMITS, NO_LIMITS))).toEqual([]);
    expect(admissionScopes(request(NO_LIMITS, limits({ maxConcurrentJobs: 1 })))).toMatchObject([
      { scope: 'endUser' },
    ]);
  });

  it('has no end-user scope without end-user limits or without an end user', () => {
    const keyLimits = limits({ maxConcurrentJobs: 5 });
    expect(admissionScopes(request(keyLimits, null)).map((s) => s.scope)).toEqual(['key']);
    const ownJob = { ...request(keyLimits, keyLimits), job: newJob(KEY) };
    expect(admissionScopes(ownJob).map((s) => s.scope)).toEqual(['key']);
  });
});

describe('decideAdmission', () => {
  it('creates the job when every limit has room', () => {
    const given = request(
      limits({ dailyBudgetMicroUsd: 16_000, maxConcurrentJobs: 2 }),
      limits({ dailyBudgetMicroUsd: 8000, maxConcurrentJobs: 1 }),
    );
    const decision = decideAdmission(
      given,
      facts({ usage: { key: usage(8000, 1), endUser: IDLE } }),
    );
    expect(decision).toEqual({ kind: 'created', job: given.job });
  });

  it('returns the earlier job of a repeated idempotency key before looking at any limit', () => {
    const earlier = newJob(KEY, { idempotencyKey: 'k', endUserId: 'alice' });
    const given = request(limits({ dailyBudgetMicroUsd: 0, maxConcurrentJobs: 1 }));
    expect(
      decideAdmission(given, facts({ existing: earlier, usage: { key: usage(0, 1) } })),
    ).toEqual({ kind: 'existing', job: earlier });
  });

  it('refuses an idempotency key reused with other parameters, before any limit', () => {
    const earlier = newJob(KEY, { idempotencyKey: 'k', endUserId: 'alice' });
    const given = request(limits({ dailyBudgetMicroUsd: 0, maxConcurrentJobs: 1 }));
    const changes: Partial<JobRecord>[] = [
      { model: 'base' },
      { prompt: 'another prompt' },
      { imageSize: 'landscape_16_9' },
      { numInferenceSteps: 9 },
      { guidanceScale: 4 },
      { numImages: 2 },
      { enableSafetyChecker: false },
      { outputFormat: 'webp' },
      { acceleration: 'fast' },
    ];
    for (const change of changes) {
      const other = { ...given, job: { ...given.job, ...change } };
      expect(
        decideAdmission(other, facts({ existing: earlier, usage: { key: usage(0, 1) } })),
        JSON.stringify(change),
      ).toEqual({ kind: 'idempotency_conflict', job: earlier });
    }
  });

  it('allows spending exactly the budget and refuses one micro-USD more', () => {
    const given = request(limits({ dailyBudgetMicroUsd: 16_000 }));
    expect(decideAdmission(given, facts({ usage: { key: usage(8000, 0) } })).kind).toBe('created');
    expect(decideAdmission(given, facts({ usage: { key: usage(8001, 0) } }))).toEqual({
      kind: 'budget_exceeded',
      scope: 'key',
      period: 'day',
      spentMicroUsd: 8001,
      budgetMicroUsd: 16_000,
    });
  });

  it('refuses a full concurrency cap, reporting the jobs in flight', () => {
    const given = request(limits({ maxConcurrentJobs: 2 }));
    expect(decideAdmission(given, facts({ usage: { key: usage(0, 1) } })).kind).toBe('created');
    expect(decideAdmission(given, facts({ usage: { key: usage(0, 2) } }))).toEqual({
      kind: 'too_many_jobs',
      scope: 'key',
      inFlight: 2,
      max: 2,
    });
  });

  it("checks every scope's budget before any scope's concurrency", () => {
    // The key's slots are full and the end user's budget is spent: the budget is the answer.
    const given = request(limits({ maxConcurrentJobs: 1 }), limits({ dailyBudgetMicroUsd: 8000 }));
    const decision = decideAdmission(
      given,
      facts({ usage: { key: usage(0, 1), endUser: usage(1, 0) } }),
    );
    expect(decision).toMatchObject({ kind: 'budget_exceeded', scope: 'endUser' });
  });

  it('names the key before its end user when both are over the same limit', () => {
    const cap = limits({ dailyBudgetMicroUsd: 8000, maxConcurrentJobs: 1 });
    const spent = usage(8000, 0);
    expect(
      decideAdmission(request(cap, cap), facts({ usage: { key: spent, endUser: spent } })),
    ).toMatchObject({ kind: 'budget_exceeded', scope: 'key' });
    const full = usage(0, 1);
    expect(
      decideAdmission(request(cap, cap), facts({ usage: { key: full, endUser: full } })),
    ).toMatchObject({ kind: 'too_many_jobs', scope: 'key' });
  });

  it('holds the end user to its own limits when the key has room', () => {
    const given = request(limits({ maxConcurrentJobs: 10 }), limits({ maxConcurrentJobs: 1 }));
    expect(
      decideAdmission(given, facts({ usage: { key: usage(0, 3), endUser: usage(0, 1) } })),
    ).toEqual({ kind: 'too_many_jobs', scope: 'endUser', inFlight: 1, max: 1 });
  });

  it('refuses to decide without the usage of a scope it weighs', () => {
    const given = request(limits({ maxConcurrentJobs: 1 }), limits({ maxConcurrentJobs: 1 }));
    expect(() => decideAdmission(given, facts({ usage: { key: IDLE } }))).toThrow(/endUser/);
  });
});

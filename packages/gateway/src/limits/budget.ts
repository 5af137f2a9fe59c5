/**
 * Daily budgets and concurrency caps as callers see them. The store decides (atomically, in
 * `admitJob`, by the policy of domain/admission.ts); this turns its refusals into contract
 * errors. Money stays integer micro-USD up to here and becomes USD only in messages and
 * extensions.
 */
import { microUsdToUsd } from '@zimage/core';
import type { AdmissionResult, LimitScope } from '../domain/admission.ts';
import { formatUsd } from '../domain/money.ts';
import { GatewayError } from '../errors.ts';

/**
 * Seconds to suggest before retrying when every job slot is taken. Slots free when a job ends
 * (seconds for Turbo, tens of seconds for Base), which nothing here can predict exactly; a
 * short fixed hint keeps clients polite without leaving them idle long after a slot frees.
 */
export const TOO_MANY_JOBS_RETRY_AFTER_SECONDS = 5;

export type AdmissionRefusal = Extract<
  AdmissionResult,
  { kind: 'budget_exceeded' } | { kind: 'too_many_jobs' }
>;

/** The budget period of a job: its creation day in UTC, as 'YYYY-MM-DD'. */
export function utcDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

const whose = (scope: LimitScope) => (scope === 'key' ? 'this API key' : 'this end user');

/**
 * BUDGET_EXCEEDED when the job would take the day's spending past the budget (it is refused
 * whole, never partly run); RATE_LIMITED with a retry hint when every job slot is taken,
 * because waiting is all it takes.
 */
export function admissionError(refusal: AdmissionRefusal, jobCostMicroUsd: number): GatewayError {
  if (refusal.kind === 'budget_exceeded') {
    const { scope, spentMicroUsd, budgetMicroUsd } = refusal;
    return new GatewayError(
      'BUDGET_EXCEEDED',
      `Daily budget of ${whose(scope)} exceeded: spent ${formatUsd(spentMicroUsd)} of ` +
        `${formatUsd(budgetMicroUsd)} today (UTC), and this job costs ${formatUsd(jobCostMicroUsd)}`,
      {
        scope,
        spentTodayUsd: microUsdToUsd(spentMicroUsd),
        dailyBudgetUsd: microUsdToUsd(budgetMicroUsd),
        jobCostUsd: microUsdToUsd(jobCostMicroUsd),
      },
    );
  }
  const { scope, inFlight, max } = refusal;
  const retryAfterSeconds = TOO_MANY_JOBS_RETRY_AFTER_SECONDS;
  return new GatewayError(
    'RATE_LIMITED',
    `Too many jobs for ${whose(scope)}: ${inFlight} jobs in flight (max ${max}); ` +
      `retry in ${retryAfterSeconds} s`,
    { scope, inFlight, maxConcurrentJobs: max, retryAfterSeconds },
  );
}

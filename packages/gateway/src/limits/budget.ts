/**
 * Daily budgets and concurrency caps as callers see them. The store decides (atomically, in
 * `admitJob`, by the policy of domain/admission.ts); this turns its refusals into contract
 * errors. Money stays integer micro-USD up to here and becomes USD only in messages and
 * extensions.
 */
import { microUsdToUsd } from '@zimage/core';
import type { AdmissionResult, LimitScope } from '../domain/admission.ts';
import { modelEnumName } from '../domain/models.ts';
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
  { kind: 'model_not_allowed' } | { kind: 'budget_exceeded' } | { kind: 'too_many_jobs' }
>;

/** The budget period of a job: its creation day in UTC, as 'YYYY-MM-DD'. */
export function utcDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

const whose = (scope: LimitScope) => (scope === 'key' ? 'this API key' : 'this end user');

/** The budget periods as errors say them; the extension names are Usage's fields. */
const PERIODS = {
  day: {
    budget: 'Daily',
    spent: 'today (UTC)',
    spentField: 'spentTodayUsd',
    budgetField: 'dailyBudgetUsd',
  },
  month: {
    budget: 'Monthly',
    spent: 'this month (UTC)',
    spentField: 'spentThisMonthUsd',
    budgetField: 'monthlyBudgetUsd',
  },
} as const;

/**
 * FORBIDDEN (field `model`) for a model the key may not use; BUDGET_EXCEEDED when the job would
 * take the day's or the month's spending past its budget (it is refused whole, never partly
 * run); RATE_LIMITED with a retry hint when every job slot is taken, because waiting is all it
 * takes.
 */
export function admissionError(refusal: AdmissionRefusal, jobCostMicroUsd: number): GatewayError {
  if (refusal.kind === 'model_not_allowed') {
    return new GatewayError(
      'FORBIDDEN',
      `This API key may not use this model; it may use ${refusal.allowedModels.map(modelEnumName).join(', ')}`,
      { field: 'model' },
    );
  }
  if (refusal.kind === 'budget_exceeded') {
    const { scope, period, spentMicroUsd, budgetMicroUsd } = refusal;
    const words = PERIODS[period];
    return new GatewayError(
      'BUDGET_EXCEEDED',
      `${words.budget} budget of ${whose(scope)} exceeded: spent ${formatUsd(spentMicroUsd)} of ` +
        `${formatUsd(budgetMicroUsd)} ${words.spent}, and this job costs ${formatUsd(jobCostMicroUsd)}`,
      {
        scope,
        [words.spentField]: microUsdToUsd(spentMicroUsd),
        [words.budgetField]: microUsdToUsd(budgetMicroUsd),
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

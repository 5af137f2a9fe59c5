/**
 * The admission policy: whether a new job is created, refused (budget, concurrency), is the
 * repeat of an earlier one, or reuses an earlier request's idempotency key for another request. Pure: a store reads the facts inside its own transaction, asks
 * `decideAdmission`, and inserts the job only when told `created`, so every store applies the
 * same rules in the same order and only the reading and writing are its own.
 */
import type { GenerateParams, ModelKey } from '@zimage/core';
import type { JobRecord } from './job.ts';
import type { KeyLimits, Limits } from './principal.ts';

export interface Owner {
  keyId: string;
  /** null: the key's own jobs (all of them, whatever end user, when counting the key's total). */
  endUserId: string | null;
}

export interface Usage {
  /** Sum of today's charges (UTC day), in micro-USD; refunds (ERROR, free cancels) included. */
  spentMicroUsd: number;
  /** The same from the first day of the day's UTC calendar month up to that day. */
  spentThisMonthMicroUsd: number;
  /** Jobs not yet in a terminal state. */
  jobsInFlight: number;
}

export interface AdmissionRequest {
  job: JobRecord;
  /** UTC day of the job ("YYYY-MM-DD"): the daily budget's period, and its month the monthly's. */
  day: string;
  keyLimits: KeyLimits;
  /** Limits for the job's end user; null when the job has none. */
  endUserLimits: Limits | null;
}

export type LimitScope = 'key' | 'endUser';

/** What a budget counts: the job's UTC day, or its UTC calendar month. */
export type BudgetPeriod = 'day' | 'month';

/** The first day ("YYYY-MM-01") of the UTC calendar month of `day` ("YYYY-MM-DD"). */
export const monthStart = (day: string): string => `${day.slice(0, 7)}-01`;

export type AdmissionResult =
  | { kind: 'created'; job: JobRecord }
  /** Same owner, end user, idempotency key and parameters as an earlier job: that job, nothing charged. */
  | { kind: 'existing'; job: JobRecord }
  /** Same owner, end user and idempotency key as an earlier job (`job`), other parameters: refused. */
  | { kind: 'idempotency_conflict'; job: JobRecord }
  /** The key may not use the job's model (allowedModels): nothing read, nothing charged. */
  | { kind: 'model_not_allowed'; allowedModels: readonly ModelKey[] }
  | {
      kind: 'budget_exceeded';
      scope: LimitScope;
      period: BudgetPeriod;
      /** Spent in `period` before this job. */
      spentMicroUsd: number;
      budgetMicroUsd: number;
    }
  | { kind: 'too_many_jobs'; scope: LimitScope; inFlight: number; max: number };

/** What a request with an earlier request's idempotency key gets. */
export type RepeatedRequest = Extract<
  AdmissionResult,
  { kind: 'existing' } | { kind: 'idempotency_conflict' }
>;

/**
 * The validated parameters (defaults filled in) that make two generate requests the same one:
 * every field of GenerateParams, which the type check holds this list to.
 */
const REQUEST_PARAMETERS = {
  model: true,
  prompt: true,
  imageSize: true,
  numInferenceSteps: true,
  guidanceScale: true,
  numImages: true,
  enableSafetyChecker: true,
  outputFormat: true,
  acceleration: true,
} as const satisfies Record<keyof GenerateParams, true>;

/**
 * As Stripe does: the earlier job when the parameters are the same, a conflict when they are
 * not, so a key reused by mistake never silently answers with another request's job. Defaults
 * count as given: omitting `numImages` and sending its default are the same request.
 */
export function repeatedRequest(earlier: JobRecord, params: GenerateParams): RepeatedRequest {
  const names = Object.keys(REQUEST_PARAMETERS) as (keyof GenerateParams)[];
  const same = names.every((name) => earlier[name] === params[name]);
  return { kind: same ? 'existing' : 'idempotency_conflict', job: earlier };
}

export interface AdmissionScope {
  scope: LimitScope;
  /** Whose usage counts against `limits`. */
  owner: Owner;
  limits: Limits;
  /** Only a key as a whole has a monthly budget; null for an end user or no limit. */
  monthlyBudgetMicroUsd: number | null;
}

/**
 * The scopes a job is admitted against, key first: the key as a whole, and the job's end user
 * when it has one and end-user limits apply. A scope without any limit is left out, so a store
 * reads no usage for it.
 */
export function admissionScopes({
  job,
  keyLimits,
  endUserLimits,
}: AdmissionRequest): AdmissionScope[] {
  const scopes: AdmissionScope[] = [
    {
      scope: 'key',
      limits: keyLimits,
      owner: { keyId: job.ownerKeyId, endUserId: null },
      monthlyBudgetMicroUsd: keyLimits.monthlyBudgetMicroUsd,
    },
  ];
  if (endUserLimits !== null && job.endUserId !== null) {
    scopes.push({
      scope: 'endUser',
      limits: endUserLimits,
      owner: { keyId: job.ownerKeyId, endUserId: job.endUserId },
      monthlyBudgetMicroUsd: null,
    });
  }
  return scopes.filter(
    ({ limits, monthlyBudgetMicroUsd }) =>
      limits.dailyBudgetMicroUsd !== null ||
      monthlyBudgetMicroUsd !== null ||
      limits.maxConcurrentJobs !== null,
  );
}

/** What a store read, in the same transaction that will insert the job. */
export interface AdmissionFacts {
  /**
   * The job an earlier request of the same key, end user (or none) and idempotency key created;
   * null when there is none or the job has no idempotency key.
   */
  existing: JobRecord | null;
  /** The usage on the request's day of every scope `admissionScopes` named. */
  usage: Partial<Record<LimitScope, Usage>>;
}

/**
 * A repeated idempotency key is answered before any limit is looked at: the earlier job, or a
 * conflict when the parameters differ (`repeatedRequest`). Then the key's allowed models, then
 * budgets before concurrency: a spent budget stays spent today, a full slot frees soon, so the
 * budget is the more useful answer when both apply. Within each, the key before its end user,
 * and a day's budget before the month's.
 */
export function decideAdmission(request: AdmissionRequest, facts: AdmissionFacts): AdmissionResult {
  if (facts.existing !== null) return repeatedRequest(facts.existing, request.job);
  const { job } = request;
  const { allowedModels } = request.keyLimits;
  if (allowedModels !== null && !allowedModels.includes(job.model)) {
    return { kind: 'model_not_allowed', allowedModels };
  }
  const scopes = admissionScopes(request).map(({ scope, limits, monthlyBudgetMicroUsd }) => {
    const usage = facts.usage[scope];
    if (usage === undefined) throw new Error(`decideAdmission: no usage read for scope ${scope}`);
    return { scope, limits, monthlyBudgetMicroUsd, usage };
  });
  for (const { scope, limits, monthlyBudgetMicroUsd, usage } of scopes) {
    const budgets: [BudgetPeriod, number | null, number][] = [
      ['day', limits.dailyBudgetMicroUsd, usage.spentMicroUsd],
      ['month', monthlyBudgetMicroUsd, usage.spentThisMonthMicroUsd],
    ];
    for (const [period, budget, spent] of budgets) {
      if (budget !== null && spent + job.costMicroUsd > budget) {
        return {
          kind: 'budget_exceeded',
          scope,
          period,
          spentMicroUsd: spent,
          budgetMicroUsd: budget,
        };
      }
    }
  }
  for (const { scope, limits, usage } of scopes) {
    const max = limits.maxConcurrentJobs;
    if (max !== null && usage.jobsInFlight >= max) {
      return { kind: 'too_many_jobs', scope, inFlight: usage.jobsInFlight, max };
    }
  }
  return { kind: 'created', job };
}

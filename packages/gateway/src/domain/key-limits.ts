/**
 * A key's limits as one flat record, the shape of the contract's ApiKeyLimits (its own limits,
 * then those of each end user it acts for), and patches of it: an absent field keeps its limit,
 * null clears it.
 */
import type { ApiKeyRecord, KeyLimits, Limits } from './principal.ts';

export interface FlatLimits {
  dailyBudgetMicroUsd: number | null;
  monthlyBudgetMicroUsd: number | null;
  maxConcurrentJobs: number | null;
  requestsPerMinute: number | null;
  endUserDailyBudgetMicroUsd: number | null;
  endUserMaxConcurrentJobs: number | null;
  endUserRequestsPerMinute: number | null;
  allowedModels: KeyLimits['allowedModels'];
}

/** Only the fields given change; null clears a limit. */
export type LimitsPatch = Partial<FlatLimits>;

export const NO_FLAT_LIMITS: Readonly<FlatLimits> = Object.freeze({
  dailyBudgetMicroUsd: null,
  monthlyBudgetMicroUsd: null,
  maxConcurrentJobs: null,
  requestsPerMinute: null,
  endUserDailyBudgetMicroUsd: null,
  endUserMaxConcurrentJobs: null,
  endUserRequestsPerMinute: null,
  allowedModels: null,
});

export const FLAT_LIMIT_NAMES = Object.keys(NO_FLAT_LIMITS) as (keyof FlatLimits)[];

/** The key's own limits and its end users', from the flat record. */
export function splitLimits(flat: FlatLimits): { limits: KeyLimits; endUserLimits: Limits } {
  return {
    limits: {
      dailyBudgetMicroUsd: flat.dailyBudgetMicroUsd,
      monthlyBudgetMicroUsd: flat.monthlyBudgetMicroUsd,
      maxConcurrentJobs: flat.maxConcurrentJobs,
      requestsPerMinute: flat.requestsPerMinute,
      allowedModels: flat.allowedModels,
    },
    endUserLimits: {
      dailyBudgetMicroUsd: flat.endUserDailyBudgetMicroUsd,
      maxConcurrentJobs: flat.endUserMaxConcurrentJobs,
      requestsPerMinute: flat.endUserRequestsPerMinute,
    },
  };
}

export function flatLimits(key: Pick<ApiKeyRecord, 'limits' | 'endUserLimits'>): FlatLimits {
  const { limits, endUserLimits } = key;
  return {
    dailyBudgetMicroUsd: limits.dailyBudgetMicroUsd,
    monthlyBudgetMicroUsd: limits.monthlyBudgetMicroUsd,
    maxConcurrentJobs: limits.maxConcurrentJobs,
    requestsPerMinute: limits.requestsPerMinute,
    endUserDailyBudgetMicroUsd: endUserLimits.dailyBudgetMicroUsd,
    endUserMaxConcurrentJobs: endUserLimits.maxConcurrentJobs,
    endUserRequestsPerMinute: endUserLimits.requestsPerMinute,
    allowedModels: limits.allowedModels === null ? null : [...limits.allowedModels],
  };
}

/** The key's limits with `patch` applied. */
export function patchedLimits(
  key: Pick<ApiKeyRecord, 'limits' | 'endUserLimits'>,
  patch: LimitsPatch,
): { limits: KeyLimits; endUserLimits: Limits } {
  const given = Object.fromEntries(
    Object.entries(patch).filter(([, value]) => value !== undefined),
  ) as LimitsPatch;
  return splitLimits({ ...flatLimits(key), ...given });
}

/** The fields whose value differs, each as { from, to }: what an audit entry records. */
export function limitsChange(
  before: FlatLimits,
  after: FlatLimits,
): Partial<Record<keyof FlatLimits, { from: unknown; to: unknown }>> {
  const change: Partial<Record<keyof FlatLimits, { from: unknown; to: unknown }>> = {};
  for (const name of FLAT_LIMIT_NAMES) {
    if (JSON.stringify(before[name]) !== JSON.stringify(after[name])) {
      change[name] = { from: before[name], to: after[name] };
    }
  }
  return change;
}

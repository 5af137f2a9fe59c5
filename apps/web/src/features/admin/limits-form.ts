/**
 * An API key's limits as a form: every limit is a text field (empty: no limit), the allowed
 * models a set of checkboxes (none checked: every model). Editing sends only what changed,
 * as `ApiKeyLimitsInput` means it: a field set to null clears that limit, an absent one keeps it.
 */
import type { ApiKeyLimits, ApiKeyLimitsInput } from '../../graphql/admin-operations.ts';
import type { Model } from '../../graphql/operations.ts';

type NumericLimit = Exclude<keyof ApiKeyLimits, 'allowedModels'>;

export interface LimitField {
  name: NumericLimit;
  label: string;
  /** Budgets are USD amounts (exact to the micro-USD); the others whole counts. */
  kind: 'usd' | 'count';
  /** Whether the limit applies to the whole key or to each end user the key acts for. */
  scope: 'key' | 'end user';
}

export const LIMIT_FIELDS: readonly LimitField[] = [
  { name: 'dailyBudgetUsd', label: 'Daily budget (USD)', kind: 'usd', scope: 'key' },
  { name: 'monthlyBudgetUsd', label: 'Monthly budget (USD)', kind: 'usd', scope: 'key' },
  { name: 'maxConcurrentJobs', label: 'Jobs at once', kind: 'count', scope: 'key' },
  { name: 'requestsPerMinute', label: 'Requests per minute', kind: 'count', scope: 'key' },
  { name: 'endUserDailyBudgetUsd', label: 'Daily budget (USD)', kind: 'usd', scope: 'end user' },
  { name: 'endUserMaxConcurrentJobs', label: 'Jobs at once', kind: 'count', scope: 'end user' },
  {
    name: 'endUserRequestsPerMinute',
    label: 'Requests per minute',
    kind: 'count',
    scope: 'end user',
  },
];

export interface LimitsFormValues {
  numbers: Record<NumericLimit, string>;
  /** Empty: every model. */
  allowedModels: readonly Model[];
}

export type LimitsFormErrors = Partial<Record<NumericLimit | 'allowedModels', string>>;

/** Whole limits, every field given: what the form means once valid. */
export type ParsedLimits = { [F in NumericLimit]: number | null } & {
  allowedModels: Model[] | null;
};

export function limitsToForm(limits: ApiKeyLimits | null): LimitsFormValues {
  const numbers = {} as Record<NumericLimit, string>;
  for (const field of LIMIT_FIELDS) {
    const value = limits?.[field.name];
    numbers[field.name] = value == null ? '' : String(value);
  }
  return { numbers, allowedModels: limits?.allowedModels ?? [] };
}

/** Up to six decimals: the gateway counts money in micro-USD. */
const USD = /^\d+(\.\d{1,6})?$/;
const COUNT = /^\d+$/;

export function parseLimits(
  values: LimitsFormValues,
): { ok: true; limits: ParsedLimits } | { ok: false; errors: LimitsFormErrors } {
  const errors: LimitsFormErrors = {};
  const limits = {} as ParsedLimits;
  for (const field of LIMIT_FIELDS) {
    const text = values.numbers[field.name].trim();
    if (text === '') {
      limits[field.name] = null;
    } else if (field.kind === 'usd' ? USD.test(text) : COUNT.test(text)) {
      limits[field.name] = Number(text);
    } else {
      errors[field.name] =
        field.kind === 'usd'
          ? 'An amount in USD, such as 5 or 0.25 (at most 6 decimals), or empty for no limit.'
          : 'A whole number, or empty for no limit.';
    }
  }
  limits.allowedModels = values.allowedModels.length > 0 ? [...values.allowedModels] : null;
  return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, limits };
}

/** A new key's limits: only the ones set (an absent limit is no limit). */
export function limitsToCreate(limits: ParsedLimits): ApiKeyLimitsInput {
  return Object.fromEntries(
    Object.entries(limits).filter(([, value]) => value !== null),
  ) as ApiKeyLimitsInput;
}

const sameModels = (a: readonly Model[] | null, b: readonly Model[] | null) =>
  (a?.length ?? 0) === (b?.length ?? 0) && (a ?? []).every((model) => b?.includes(model));

/** The changes from `current` to `next`: changed fields only, null where a limit is removed. */
export function limitsChanges(current: ApiKeyLimits, next: ParsedLimits): ApiKeyLimitsInput {
  const changes: Record<string, unknown> = {};
  for (const field of LIMIT_FIELDS) {
    if (current[field.name] !== next[field.name]) changes[field.name] = next[field.name];
  }
  if (!sameModels(current.allowedModels, next.allowedModels)) {
    changes.allowedModels = next.allowedModels;
  }
  return changes as ApiKeyLimitsInput;
}

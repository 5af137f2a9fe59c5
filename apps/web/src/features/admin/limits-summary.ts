/** An API key's limits in a few words each, for the keys table. */
import type { ApiKeyLimits } from '../../graphql/admin-operations.ts';
import { formatUsd } from '../../ui/format.ts';
import { modelLabel } from '../../ui/labels.ts';

function describe(
  budgetUsd: number | null,
  concurrent: number | null,
  perMinute: number | null,
): string[] {
  return [
    ...(budgetUsd != null ? [`${formatUsd(budgetUsd)} a day`] : []),
    ...(concurrent != null ? [`${concurrent} at once`] : []),
    ...(perMinute != null ? [`${perMinute} a minute`] : []),
  ];
}

/** One line per part that has limits: the key's, each end user's, the models. None: no limits. */
export function summarizeLimits(limits: ApiKeyLimits): string[] {
  const key = [
    ...describe(limits.dailyBudgetUsd, null, null),
    ...(limits.monthlyBudgetUsd != null ? [`${formatUsd(limits.monthlyBudgetUsd)} a month`] : []),
    ...describe(null, limits.maxConcurrentJobs, limits.requestsPerMinute),
  ];
  const endUser = describe(
    limits.endUserDailyBudgetUsd,
    limits.endUserMaxConcurrentJobs,
    limits.endUserRequestsPerMinute,
  );
  return [
    ...(key.length > 0 ? [key.join(', ')] : []),
    ...(endUser.length > 0 ? [`Each end user: ${endUser.join(', ')}`] : []),
    ...(limits.allowedModels ? [`Only ${limits.allowedModels.map(modelLabel).join(', ')}`] : []),
  ];
}

import { useQuery } from 'urql';
import { ViewerQuery } from '../../graphql/operations.ts';

/** The signed-in key's name and today's usage; refetched by the cache whenever a job changes. */
export function useViewer() {
  const [{ data, error }] = useQuery({ query: ViewerQuery });
  return { viewer: data?.viewer ?? null, error };
}

/** What is left of today's budget, or null when the key has none. */
export function budgetLeft(usage: { spentTodayUsd: number; dailyBudgetUsd: number | null }) {
  return usage.dailyBudgetUsd == null
    ? null
    : Math.max(0, usage.dailyBudgetUsd - usage.spentTodayUsd);
}

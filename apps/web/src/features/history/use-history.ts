/**
 * The history list: server-side pages of `jobs`, newest first, filtered by prompt text, model
 * and status. Pages are merged by the cache (relay pagination), so loading more only changes
 * the cursor; a new filter starts again from its first page.
 */
import { useCallback, useMemo, useState } from 'react';
import { useQuery } from 'urql';
import { describeError } from '../../graphql/errors.ts';
import { type JobStatus, JobsQuery, type Model } from '../../graphql/operations.ts';
import { useDebounced } from '../../ui/use-debounced.ts';

export const PAGE_SIZE = 30;
const SEARCH_DELAY_MS = 250;

export interface HistoryFilters {
  search: string;
  model: Model | null;
  status: JobStatus | null;
}

const NO_FILTERS: HistoryFilters = { search: '', model: null, status: null };

export function useHistory() {
  const [filters, setFilters] = useState<HistoryFilters>(NO_FILTERS);
  const search = useDebounced(filters.search.trim(), SEARCH_DELAY_MS);
  const filterKey = JSON.stringify([search, filters.model, filters.status]);
  // The cursor belongs to the filter it was reached with; another filter starts at page one.
  const [cursor, setCursor] = useState<{ filterKey: string; after: string } | null>(null);
  const after = cursor?.filterKey === filterKey ? cursor.after : null;

  const [{ data, fetching, error }] = useQuery({
    query: JobsQuery,
    variables: {
      first: PAGE_SIZE,
      after,
      status: filters.status,
      model: filters.model,
      search: search || null,
    },
  });

  const connection = data?.jobs;
  const jobs = useMemo(() => connection?.edges.map((edge) => edge.node) ?? [], [connection]);
  const hasMore = connection?.pageInfo.hasNextPage ?? false;
  const endCursor = connection?.pageInfo.endCursor ?? null;

  const loadMore = useCallback(() => {
    if (hasMore && endCursor && !fetching) setCursor({ filterKey, after: endCursor });
  }, [hasMore, endCursor, fetching, filterKey]);

  const setFilter = useCallback(
    <F extends keyof HistoryFilters>(name: F, value: HistoryFilters[F]) =>
      setFilters((current) => ({ ...current, [name]: value })),
    [],
  );

  return {
    filters,
    filtered: filters.search.trim() !== '' || filters.model !== null || filters.status !== null,
    setFilter,
    clearFilters: () => setFilters(NO_FILTERS),
    jobs,
    hasMore,
    loading: fetching,
    /** True until the first answer for these filters. */
    initialLoading: fetching && !data,
    error: error ? describeError(error) : null,
    loadMore,
  };
}

/**
 * The gateway's API keys, newest first, revoked ones included, and the three admin actions on
 * them. "More" asks for a longer first page rather than the next one: the list is one query,
 * so when a job's charge makes the cache drop the keys' spend, one refetch renews every row.
 */
import { useCallback, useMemo, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import {
  ApiKeysQuery,
  CreateApiKeyMutation,
  RevokeApiKeyMutation,
  UpdateApiKeyLimitsMutation,
} from '../../graphql/admin-operations.ts';
import { describeError } from '../../graphql/errors.ts';

export const KEYS_PAGE_SIZE = 50;

export function useApiKeys() {
  const [first, setFirst] = useState(KEYS_PAGE_SIZE);
  const [{ data, fetching, error }] = useQuery({ query: ApiKeysQuery, variables: { first } });
  const connection = data?.apiKeys;
  const keys = useMemo(() => connection?.edges.map((edge) => edge.node) ?? [], [connection]);
  const hasMore = connection?.pageInfo.hasNextPage ?? false;

  const loadMore = useCallback(() => {
    if (hasMore && !fetching) setFirst((count) => count + KEYS_PAGE_SIZE);
  }, [hasMore, fetching]);

  return {
    keys,
    hasMore,
    loadMore,
    loading: fetching,
    initialLoading: fetching && !data,
    error: error ? describeError(error) : null,
  };
}

export const useCreateApiKey = () => useMutation(CreateApiKeyMutation);
export const useUpdateApiKeyLimits = () => useMutation(UpdateApiKeyLimitsMutation);
export const useRevokeApiKey = () => useMutation(RevokeApiKeyMutation);

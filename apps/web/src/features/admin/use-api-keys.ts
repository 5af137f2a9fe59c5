/**
 * The gateway's API keys, newest first, revoked ones included, a page at a time (the cache
 * merges the pages), and the three admin actions on them.
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
  const [after, setAfter] = useState<string | null>(null);
  const [{ data, fetching, error }] = useQuery({
    query: ApiKeysQuery,
    variables: { first: KEYS_PAGE_SIZE, after },
  });
  const connection = data?.apiKeys;
  const keys = useMemo(() => connection?.edges.map((edge) => edge.node) ?? [], [connection]);
  const hasMore = connection?.pageInfo.hasNextPage ?? false;
  const endCursor = connection?.pageInfo.endCursor ?? null;

  const loadMore = useCallback(() => {
    if (hasMore && endCursor && !fetching) setAfter(endCursor);
  }, [hasMore, endCursor, fetching]);

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

/**
 * The gateway's API keys, newest first, revoked ones included, a page at a time, and the three
 * admin actions on them.
 */
import { useMemo } from 'react';
import { useMutation, useQuery } from 'urql';
import {
  ApiKeysQuery,
  CreateApiKeyMutation,
  RevokeApiKeyMutation,
  UpdateApiKeyLimitsMutation,
} from '../../graphql/admin-operations.ts';
import { describeError } from '../../graphql/errors.ts';
import { useCursorPages } from './use-cursor-pages.ts';

export const KEYS_PAGE_SIZE = 50;

export function useApiKeys() {
  const pages = useCursorPages();
  const [{ data, fetching, error }] = useQuery({
    query: ApiKeysQuery,
    variables: { first: KEYS_PAGE_SIZE, after: pages.after },
  });
  const connection = data?.apiKeys;
  const keys = useMemo(() => connection?.edges.map((edge) => edge.node) ?? [], [connection]);
  const endCursor = connection?.pageInfo.endCursor ?? null;
  const hasOlder = (connection?.pageInfo.hasNextPage ?? false) && endCursor !== null;

  return {
    keys,
    page: pages.page,
    hasNewer: pages.hasNewer,
    hasOlder,
    showNewer: pages.showNewer,
    showOlder: () => endCursor && !fetching && pages.showOlder(endCursor),
    loading: fetching,
    initialLoading: fetching && !data,
    error: error ? describeError(error) : null,
  };
}

export const useCreateApiKey = () => useMutation(CreateApiKeyMutation);
export const useUpdateApiKeyLimits = () => useMutation(UpdateApiKeyLimitsMutation);
export const useRevokeApiKey = () => useMutation(RevokeApiKeyMutation);

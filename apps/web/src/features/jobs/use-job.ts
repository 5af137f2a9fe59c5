import { useCallback } from 'react';
import { useMutation, useQuery } from 'urql';
import { describeError } from '../../graphql/errors.ts';
import { CancelJobMutation, JobQuery } from '../../graphql/operations.ts';

/** One job, from the cache when a list or an event already brought it. */
export function useJob(id: string) {
  const [{ data, fetching, error }] = useQuery({ query: JobQuery, variables: { id } });
  return { job: data?.job ?? null, fetching, error };
}

export function useCancelJob() {
  const [{ fetching, error }, execute] = useMutation(CancelJobMutation);
  const cancel = useCallback((id: string) => void execute({ id }), [execute]);
  return { cancel, cancelling: fetching, cancelError: error ? describeError(error) : null };
}

import { useEffect, useMemo } from 'react';
import { useQuery } from 'urql';
import { describeError } from '../../graphql/errors.ts';
import { ActiveJobsQuery } from '../../graphql/operations.ts';
import { useLiveSession } from './live-session.tsx';

/** More unfinished jobs than a key may run at once; the gateway caps concurrency well below. */
const ACTIVE_PAGE = 100;

/**
 * The cards of the live panel. The server's unfinished jobs come first from `ActiveJobs` (so
 * a reload reattaches to them); the cache keeps that list current from `myJobs` events and
 * fetches it again after a reconnect. Each job seen here stays tracked once it finishes.
 */
export function useLiveJobs() {
  const [{ data, fetching, error }] = useQuery({
    query: ActiveJobsQuery,
    variables: { first: ACTIVE_PAGE },
  });
  const { tracked, track, dismiss } = useLiveSession();

  const active = useMemo(
    () =>
      [...(data?.queued.edges ?? []), ...(data?.processing.edges ?? [])].map((edge) => edge.node),
    [data],
  );
  useEffect(() => track(active), [active, track]);

  const jobIds = useMemo(() => {
    const createdAt = new Map(tracked);
    for (const job of active) createdAt.set(job.id, job.createdAt);
    return [...createdAt.entries()]
      .sort(([, a], [, b]) => Date.parse(b) - Date.parse(a))
      .map(([id]) => id);
  }, [tracked, active]);

  const finishedIds = useMemo(() => {
    const activeIds = new Set(active.map((job) => job.id));
    return jobIds.filter((id) => !activeIds.has(id));
  }, [jobIds, active]);

  return {
    jobIds,
    runningCount: active.length,
    finishedIds,
    loading: fetching && !data,
    error: error && !data ? describeError(error) : null,
    dismiss: (id: string) => dismiss([id]),
    clearFinished: () => dismiss(finishedIds),
  };
}

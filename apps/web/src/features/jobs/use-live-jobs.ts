import { useEffect, useMemo } from 'react';
import { useQuery } from 'urql';
import { describeError } from '../../graphql/errors.ts';
import { ActiveJobsQuery, type Job } from '../../graphql/operations.ts';
import { useLiveSession } from './live-session.tsx';

/** More unfinished jobs than a key may run at once; the gateway caps concurrency well below. */
const ACTIVE_PAGE = 100;
/** Finished jobs that keep a card; older ones are in History. */
export const RECENT_FINISHED = 3;

/**
 * The cards of the live panel. The server's unfinished jobs come first from `ActiveJobs` (so
 * a reload reattaches to them); the cache keeps that list current from `myJobs` events and
 * fetches it again after a reconnect. Each job seen here stays tracked once it finishes, and
 * the newest RECENT_FINISHED of those keep their cards beside the running ones.
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

  const { jobIds, finishedIds } = useMemo(() => {
    const createdAt = new Map(tracked);
    for (const job of active) createdAt.set(job.id, job.createdAt);
    const newestFirst = [...createdAt.entries()]
      .sort(([, a], [, b]) => Date.parse(b) - Date.parse(a))
      .map(([id]) => id);
    const activeIds = new Set(active.map((job) => job.id));
    const finished = newestFirst.filter((id) => !activeIds.has(id));
    const shown = new Set(finished.slice(0, RECENT_FINISHED));
    return {
      jobIds: newestFirst.filter((id) => activeIds.has(id) || shown.has(id)),
      finishedIds: finished,
    };
  }, [tracked, active]);

  return {
    jobIds,
    runningCount: active.length,
    finishedIds,
    loading: fetching && !data,
    error: error && !data ? describeError(error) : null,
    dismiss: (id: string) => dismiss([id]),
    /** A retry's new job takes the failed one's card. */
    replace: (failedId: string, job: Pick<Job, 'id' | 'createdAt'>) => {
      track([job]);
      dismiss([failedId]);
    },
    clearFinished: () => dismiss(finishedIds),
  };
}

import { useMemo } from 'react';
import { useQuery } from 'urql';
import { type Job, JobsQuery } from '../../graphql/operations.ts';
import { type EtaRange, estimateRange, similarRunTimes } from './eta.ts';

/**
 * The expected run time of an unfinished job. The recent completed jobs of its model are one
 * cached list shared by every card of that model, and the cache adds each job that completes.
 */
export function useEta(job: Job): EtaRange | null {
  const unfinished = job.status === 'QUEUED' || job.status === 'PROCESSING';
  const [{ data }] = useQuery({
    query: JobsQuery,
    variables: { first: 30, status: 'COMPLETED', model: job.model },
    pause: !unfinished,
  });
  const completed = data?.jobs.edges;
  return useMemo(
    () =>
      completed
        ? estimateRange(
            similarRunTimes(
              job,
              completed.map((edge) => edge.node),
            ),
          )
        : null,
    [completed, job],
  );
}

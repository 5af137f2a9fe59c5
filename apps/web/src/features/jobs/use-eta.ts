import { isTerminalStatus } from '@zimage/contract';
import { useMemo } from 'react';
import { useQuery } from 'urql';
import { type Job, JobsQuery } from '../../graphql/operations.ts';
import { type EtaRange, estimateRange, similarRunTimes } from './eta.ts';

/**
 * The expected run time of an unfinished job: the gateway's estimate at once, then the recent
 * completed jobs of its model as they load. Those are one cached list shared by every card of
 * that model, and the cache adds each job that completes.
 */
export function useEta(job: Job): EtaRange {
  const [{ data }] = useQuery({
    query: JobsQuery,
    variables: { first: 30, status: 'COMPLETED', model: job.model },
    pause: isTerminalStatus(job.status),
  });
  const completed = data?.jobs.edges;
  return useMemo(
    () =>
      estimateRange(
        similarRunTimes(job, completed?.map((edge) => edge.node) ?? []),
        job.expectedDurationMs,
      ),
    [completed, job],
  );
}

import { createClient, gql, subscriptionExchange } from 'urql';
import { describe, expect, it } from 'vitest';
import { newestJobsExchange } from '../src/graphql/newest-jobs.ts';

const JobQuery = gql`
  query Job($id: ID!) {
    job(id: $id) {
      id
      status
      queuePosition
      requestId
      updatedAt
    }
  }
`;

const job = (updatedAt: string, fields: Record<string, unknown>) => ({
  __typename: 'Job',
  id: 'job_1',
  updatedAt,
  ...fields,
});

/** A client whose answers are `answers`, in order, one per operation. */
function clientAnswering(answers: unknown[]) {
  return createClient({
    url: '/graphql',
    exchanges: [
      newestJobsExchange(),
      subscriptionExchange({
        enableAllOperations: true,
        forwardSubscription: () => ({
          subscribe(sink) {
            sink.next({ data: { job: answers.shift() } } as never);
            sink.complete();
            return { unsubscribe() {} };
          },
        }),
      }),
    ],
  });
}

const ask = (client: ReturnType<typeof clientAnswering>) =>
  client
    .query(JobQuery, { id: 'job_1' }, { requestPolicy: 'network-only' })
    .toPromise()
    .then((result) => result.data?.job);

describe('the newest state of a job', () => {
  it('replaces an older one arriving later, in any answer', async () => {
    const client = clientAnswering([
      job('2026-01-01T00:00:02.000Z', { status: 'QUEUED', queuePosition: null, requestId: 'r' }),
      job('2026-01-01T00:00:01.000Z', { status: 'QUEUED', queuePosition: 1, requestId: null }),
    ]);
    await ask(client);
    expect(await ask(client)).toEqual(
      job('2026-01-01T00:00:02.000Z', { status: 'QUEUED', queuePosition: null, requestId: 'r' }),
    );
  });

  it('lets a newer state through', async () => {
    const newer = job('2026-01-01T00:00:03.000Z', { status: 'PROCESSING', queuePosition: null });
    const client = clientAnswering([
      job('2026-01-01T00:00:02.000Z', { status: 'QUEUED', queuePosition: 1 }),
      newer,
    ]);
    await ask(client);
    expect(await ask(client)).toEqual(newer);
  });
});

/**
 * Talking to a gateway that runs in another process (helpers/processes.ts) the way a client
 * does: GraphQL over HTTP, and `jobUpdated` over graphql-ws.
 */
import { isTerminalStatus, type JobStatus } from '@zimage/contract';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

export type JobFields = Record<string, unknown>;

/** One GraphQL request as `key`; a GraphQL error fails the test with the answer. */
export async function graphqlAt(
  url: string,
  key: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<Record<string, JobFields>> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: Record<string, JobFields>; errors?: unknown };
  if (body.errors || !body.data) throw new Error(`GraphQL failed: ${JSON.stringify(body)}`);
  return body.data;
}

export interface FollowedJob {
  /** Resolves with the first result: the subscription is live and has the job's state. */
  readonly live: Promise<JobFields>;
  /** Resolves with the first update for which `done` holds. */
  readonly done: Promise<JobFields>;
  /** Every update received so far, oldest first. */
  readonly updates: JobFields[];
}

/** Follows `jobUpdated(id)` (its state at once, then each change) until `done` holds. */
export function followJob(
  url: string,
  key: string,
  id: string,
  fields: string,
  done: (job: JobFields) => boolean,
): FollowedJob {
  const client = createClient({
    url: `${url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${key}` },
    retryAttempts: 0,
  });
  const updates: JobFields[] = [];
  let first!: (job: JobFields) => void;
  const live = new Promise<JobFields>((resolve) => {
    first = resolve;
  });
  const finished = (async () => {
    try {
      const stream = client.iterate<{ jobUpdated: JobFields }>({
        query: `subscription ($id: ID!) { jobUpdated(id: $id) { ${fields} } }`,
        variables: { id },
      });
      for await (const { data, errors } of stream) {
        if (errors) throw new Error(`jobUpdated failed: ${JSON.stringify(errors)}`);
        if (!data) continue;
        updates.push(data.jobUpdated);
        first(data.jobUpdated);
        if (done(data.jobUpdated)) return data.jobUpdated;
      }
      throw new Error(`job ${id} ended its updates without getting there`);
    } finally {
      await client.dispose();
    }
  })();
  // A subscription that fails before its first result fails `live` too.
  finished.catch(() => {});
  return {
    live: Promise.race([live, finished]),
    done: finished,
    updates,
  };
}

export const isTerminalJob = (job: JobFields) => isTerminalStatus(job.status as JobStatus);

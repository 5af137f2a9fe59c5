/**
 * `watch`: a job's states over graphql-ws, as an async iterable that survives the network.
 *
 * `jobUpdated` sends the job's current state first, then every change, and completes after a
 * terminal state. graphql-ws reconnects a dropped socket and subscribes again on its own; what
 * it cannot retry (a socket closed with an internal error, a transient error of the gateway)
 * is subscribed again here. Either way the new subscription's first state is the job read
 * again, so a change made while the socket was down is not missed. Re-reads repeat what was
 * already seen, and an old delivery may arrive late, so a state is yielded only when it is
 * newer than the last one yielded (by status, then `updatedAt`) or differs from it (the queue
 * position moves without changing `updatedAt`).
 */
import { isTerminalStatus, JOB_STATUSES } from '@zimage/contract';
import type { Client as SocketClient } from 'graphql-ws';
import type { Job } from './documents.ts';
import { errorOfClose, errorOfGraphQL, type GraphQLErrorBody, ZimageError } from './errors.ts';
import { backoffMs, wait } from './wait.ts';

type Result = { data?: unknown; errors?: readonly GraphQLErrorBody[] };

/** One subscription's results, pulled one at a time; `dispose` ends it. */
interface Subscription {
  /** The next result; null once the subscription completed. Throws what ended it. */
  next(signal: AbortSignal | undefined): Promise<Result | null>;
  dispose(): void;
}

function subscribe(socket: SocketClient, query: string, variables: object): Subscription {
  const results: Result[] = [];
  let ended: { error: unknown } | 'completed' | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const unsubscribe = socket.subscribe(
    { query, variables: variables as Record<string, unknown> },
    {
      next: (result) => {
        results.push(result as Result);
        notify();
      },
      error: (error) => {
        ended = { error };
        notify();
      },
      complete: () => {
        ended ??= 'completed';
        notify();
      },
    },
  );
  return {
    async next(signal) {
      for (;;) {
        const result = results.shift();
        if (result) return result;
        if (ended === 'completed') return null;
        if (ended) throw ended.error;
        signal?.throwIfAborted();
        await new Promise<void>((resolve, reject) => {
          const onAbort = () => reject(signal?.reason);
          signal?.addEventListener('abort', onAbort, { once: true });
          wake = () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          };
        });
      }
    },
    dispose: unsubscribe,
  };
}

/** Terminal statuses rank alike: none follows another. */
function rank(status: Job['status']): number {
  return isTerminalStatus(status) ? JOB_STATUSES.length : JOB_STATUSES.indexOf(status);
}

/** Whether `next` tells the watcher anything after `last`: it is neither older nor the same. */
export function isNewerState(next: Job, last: Job | undefined): boolean {
  if (last === undefined) return true;
  if (rank(next.status) !== rank(last.status)) return rank(next.status) > rank(last.status);
  const nextAt = Date.parse(next.updatedAt);
  const lastAt = Date.parse(last.updatedAt);
  if (nextAt !== lastAt) return nextAt > lastAt;
  return JSON.stringify(next) !== JSON.stringify(last);
}

/**
 * What ended a subscription: thrown on when retrying cannot help, or how long to wait first.
 * Refused keys (4401/4403) and the contract's errors end the watch, except the ones that say
 * to come back later.
 */
function afterFailure(error: unknown, failures: number): number {
  const refused = errorOfClose(error);
  if (refused) throw refused;
  const graphqlError = Array.isArray(error) ? errorOfGraphQL(error[0]) : error;
  if (graphqlError instanceof ZimageError) {
    if (graphqlError.code === 'RATE_LIMITED' || graphqlError.code === 'UPSTREAM_UNAVAILABLE') {
      return (graphqlError.retryAfterSeconds ?? 0) * 1000 || backoffMs(failures, 250, 10_000);
    }
    throw graphqlError;
  }
  // A socket closed otherwise, or failed to open: the network; try again.
  return backoffMs(failures, 250, 10_000);
}

export interface JobStreamOptions {
  socket: () => SocketClient;
  query: string;
  variables: { id: string; endUserId?: string | undefined };
  signal?: AbortSignal | undefined;
}

export async function* jobStream(options: JobStreamOptions): AsyncGenerator<Job, void, undefined> {
  const { signal } = options;
  let last: Job | undefined;
  for (let failures = 0; ; failures++) {
    signal?.throwIfAborted();
    const subscription = subscribe(options.socket(), options.query, options.variables);
    let retryInMs: number;
    try {
      for (;;) {
        const result = await subscription.next(signal);
        if (result === null) break;
        if (result.errors?.length) throw result.errors;
        const job = (result.data as { jobUpdated?: Job } | null | undefined)?.jobUpdated;
        if (!job) throw new ZimageError('UNEXPECTED_RESPONSE', 'jobUpdated sent no job');
        failures = 0;
        if (!isNewerState(job, last)) continue;
        last = job;
        yield job;
        if (isTerminalStatus(job.status)) return;
      }
      // Completed before a terminal state (the gateway went away gracefully): subscribe again.
      retryInMs = backoffMs(failures, 250, 10_000);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      retryInMs = afterFailure(error, failures);
    } finally {
      subscription.dispose();
    }
    await wait(retryInMs, signal);
  }
}

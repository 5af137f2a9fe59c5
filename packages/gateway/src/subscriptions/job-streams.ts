/**
 * The event streams behind the job subscriptions. Each owns an AbortController that ends its
 * pub/sub subscription: an async generator parked on `await next()` cannot be stopped by
 * `return()` alone (the call queues behind the pending await), so stopping aborts first.
 */
import { isTerminal, type JobRecord } from '../domain/job.ts';
import { type JobEvent, type PubSub, topics } from '../pubsub/pubsub.ts';

function stoppable<T>(
  stop: AbortController,
  generator: AsyncGenerator<T>,
): AsyncIterableIterator<T> {
  return {
    next: () => generator.next(),
    return(value?: unknown) {
      stop.abort();
      return generator.return(value as T);
    },
    throw(error: unknown) {
      stop.abort();
      return generator.throw(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/**
 * The job's current state at once, then every change, ending after a terminal state.
 * `readCurrent` runs after subscribing, so a change between the read and the subscription is
 * not lost; it throws (e.g. NOT_FOUND) when the caller may not follow the job.
 */
export async function followJob(
  pubsub: PubSub,
  jobId: string,
  readCurrent: () => Promise<JobRecord>,
): Promise<AsyncIterableIterator<JobRecord>> {
  const stop = new AbortController();
  const events = pubsub.subscribe(topics.job(jobId), stop.signal);
  let current: JobRecord;
  try {
    current = await readCurrent();
  } catch (error) {
    stop.abort();
    throw error;
  }
  async function* updates(): AsyncGenerator<JobRecord> {
    try {
      yield current;
      if (isTerminal(current.status)) return;
      let last = current;
      for await (const { job } of events) {
        // Older versions arrive late (out-of-order delivery); the same version is a queue
        // position notice, which subscribers do want.
        if (job.version < last.version) continue;
        last = job;
        yield job;
        if (isTerminal(job.status)) return;
      }
    } finally {
      stop.abort();
    }
  }
  return stoppable(stop, updates());
}

/** Every change published on `topic` that `include` accepts; never ends by itself. */
export function jobChanges(
  pubsub: PubSub,
  topic: string,
  include: (job: JobRecord) => boolean,
): AsyncIterableIterator<JobRecord> {
  const stop = new AbortController();
  const events: AsyncIterable<JobEvent> = pubsub.subscribe(topic, stop.signal);
  async function* changes(): AsyncGenerator<JobRecord> {
    try {
      for await (const { job } of events) if (include(job)) yield job;
    } finally {
      stop.abort();
    }
  }
  return stoppable(stop, changes());
}

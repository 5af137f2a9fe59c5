/**
 * The event streams behind the job subscriptions. Each owns an AbortController that ends its
 * pub/sub subscription: an async generator parked on `await next()` cannot be stopped by
 * `return()` alone (the call queues behind the pending await), so stopping aborts first.
 *
 * Both subscribe, and wait until the subscription is live, before reading anything, and both
 * recover from a gap (events the pub/sub lost while its connection was down) through the store:
 * a followed job is read again, a change feed replays what changed since the gap.
 */
import { isTerminal, type JobRecord } from '../domain/job.ts';
import { isGap, type PubSub, type TopicEvent, topics } from '../pubsub/pubsub.ts';
import { type JobFilter, MAX_JOBS_PAGE_SIZE, type Store } from '../store/store.ts';

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
 * `readCurrent` runs once the subscription is live, so no change can fall between the read and
 * the subscription; it throws (e.g. NOT_FOUND) when the caller may not follow the job. After a
 * gap it runs again, and the job is yielded if it changed meanwhile.
 */
export async function followJob(
  pubsub: PubSub,
  jobId: string,
  readCurrent: () => Promise<JobRecord>,
): Promise<AsyncIterableIterator<JobRecord>> {
  const stop = new AbortController();
  let current: JobRecord;
  let events: AsyncIterable<TopicEvent>;
  try {
    events = await pubsub.subscribe(topics.job(jobId), stop.signal);
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
      for await (const event of events) {
        let job: JobRecord;
        if (isGap(event)) {
          job = await readCurrent();
          if (job.version <= last.version) continue;
        } else {
          job = event.job;
          // Older versions arrive late (out-of-order delivery); the same version is a queue
          // position notice, which subscribers do want.
          if (job.version < last.version) continue;
        }
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

/** What a change feed lists: the jobs the caller may see. */
export type FeedFilter = Pick<JobFilter, 'ownerKeyId' | 'endUserId'>;

/** Whether a published job is one `filter` lists (the events of a topic are a superset). */
function matches(filter: FeedFilter, job: JobRecord): boolean {
  return (
    (filter.ownerKeyId === undefined || job.ownerKeyId === filter.ownerKeyId) &&
    (filter.endUserId === undefined || job.endUserId === filter.endUserId)
  );
}

/**
 * How much earlier than a gap's start a replay begins: `updatedAt` is stamped by the clock of
 * whichever instance wrote the job, the gap's start by this one's.
 */
export const GAP_REPLAY_MARGIN_MS = 5_000;

/** Jobs a feed already yielded, newest version each, to skip what a replay repeats. */
const REMEMBERED_JOBS = 1_000;

/**
 * Every change published on `topic` that `filter` lists; never ends by itself. After a gap,
 * every listed job the store shows changed since (less GAP_REPLAY_MARGIN_MS), oldest change
 * first, unless the feed already yielded that version; a version older than one already
 * yielded is skipped, live or replayed.
 */
export async function jobChanges(
  pubsub: PubSub,
  store: Pick<Store, 'listJobsUpdatedSince'>,
  topic: string,
  filter: FeedFilter,
): Promise<AsyncIterableIterator<JobRecord>> {
  const stop = new AbortController();
  const events = await pubsub.subscribe(topic, stop.signal);
  /** Job id → the newest version yielded; Map order is least recently yielded first. */
  const yielded = new Map<string, number>();
  const remember = (job: JobRecord) => {
    yielded.delete(job.id);
    yielded.set(job.id, job.version);
    if (yielded.size > REMEMBERED_JOBS) yielded.delete(yielded.keys().next().value as string);
  };

  async function* changedSince(since: Date): AsyncGenerator<JobRecord> {
    const from = new Date(since.getTime() - GAP_REPLAY_MARGIN_MS);
    let after: JobRecord | undefined;
    for (;;) {
      const page = await store.listJobsUpdatedSince(filter, from, MAX_JOBS_PAGE_SIZE, after);
      yield* page.jobs;
      after = page.jobs.at(-1);
      if (!page.hasNextPage || after === undefined) return;
    }
  }

  async function* changes(): AsyncGenerator<JobRecord> {
    try {
      for await (const event of events) {
        if (!isGap(event)) {
          if (!matches(filter, event.job)) continue;
          if (event.job.version < (yielded.get(event.job.id) ?? 0)) continue;
          remember(event.job);
          yield event.job;
          continue;
        }
        for await (const job of changedSince(event.since)) {
          if (job.version <= (yielded.get(job.id) ?? 0)) continue;
          remember(job);
          yield job;
        }
      }
    } finally {
      stop.abort();
    }
  }
  return stoppable(stop, changes());
}

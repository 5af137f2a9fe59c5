/**
 * Pub/sub between the job engine and subscriptions. The embedded default is in-process
 * (memory.ts); the Redis adapter (redis.ts, scale-out) carries events between instances. Both
 * run the same shared suite (test/pubsub.suite.ts). Events are published only after the
 * change is persisted, so whoever reads the store after an event finds at least that state.
 */
import type { JobRecord } from '../domain/job.ts';

export interface JobEvent {
  job: JobRecord;
}

/**
 * In place of events a subscription may have missed: the Redis subscriber connection was down
 * (a message published meanwhile is lost) and is live again. Whoever follows a state re-reads
 * it from the store; every change made at or after `since` may be among the missed ones.
 */
export interface GapEvent {
  gap: true;
  /** The last moment the subscription was known to be live, by this process's clock. */
  since: Date;
}

/** What a subscription yields. The memory adapter never loses an event, so never yields a gap. */
export type TopicEvent = JobEvent | GapEvent;

export const isGap = (event: TopicEvent): event is GapEvent => 'gap' in event;

export const topics = {
  job: (jobId: string) => `job:${jobId}`,
  /** Every change to a job of this key (myJobs for that key; filtered by end user downstream). */
  owner: (keyId: string) => `owner:${keyId}`,
  /** Every change to any job (admins). */
  all: () => 'jobs',
} as const;

export interface PubSub {
  publish(topic: string, event: JobEvent): Promise<void>;
  /**
   * Resolves once the subscription is live: every event published after that is delivered,
   * or, if the adapter loses it, followed by a gap. So "subscribe, await, then read the current
   * state" misses nothing. Iterating ends when the signal aborts and never throws for a slow
   * consumer (it buffers, bounded, dropping the oldest job events first).
   */
  subscribe(topic: string, signal?: AbortSignal): Promise<AsyncIterable<TopicEvent>>;
  close(): Promise<void>;
}

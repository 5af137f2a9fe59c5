/**
 * Pub/sub between the job engine and subscriptions. The embedded default is in-process
 * (memory); a Redis adapter (scale-out) implements the same interface and runs the same
 * shared test suite. Events are published only after the change is persisted.
 */
import type { JobRecord } from '../domain/job.ts';

export interface JobEvent {
  job: JobRecord;
}

export const topics = {
  job: (jobId: string) => `job:${jobId}`,
  /** Every change to a job of this key (myJobs for that key; filtered by end user downstream). */
  owner: (keyId: string) => `owner:${keyId}`,
  /** Every change to any job (admins). */
  all: () => 'jobs',
} as const;

export interface PubSub {
  publish(topic: string, event: JobEvent): Promise<void>;
  /** Ends when the signal aborts; iterating never throws for a slow consumer (it buffers, bounded). */
  subscribe(topic: string, signal?: AbortSignal): AsyncIterable<JobEvent>;
  close(): Promise<void>;
}

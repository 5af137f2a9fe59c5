/**
 * Every change to a job goes through here: compare-and-set on its version, then publish. The
 * order is the point: a subscriber that reads the store on an event always finds at least
 * that state, and a crash between the two loses an event, never a state.
 */

import { isTerminal, type JobRecord } from '../domain/job.ts';
import type { Logger } from '../domain/logger.ts';
import type { Metrics } from '../metrics.ts';
import { type PubSub, topics } from '../pubsub/pubsub.ts';
import type { JobPatch, Store } from '../store/store.ts';

/**
 * Sees the latest stored job and returns the patch to apply, or null when the change no longer
 * applies (the job moved on meanwhile). Called again after every lost compare-and-set, so it
 * must decide from the job it is given only.
 */
export type JobDecision = (job: JobRecord) => JobPatch | null;

export interface JobWriter {
  /** Applies a decision; returns the changed job, or null when nothing changed. */
  change(jobId: string, decide: JobDecision, known?: JobRecord): Promise<JobRecord | null>;
  /** Publishes a job as stored (after a change, or to show a new queue position). */
  publish(job: JobRecord): Promise<void>;
}

export interface JobWriterDeps {
  store: Store;
  pubsub: PubSub;
  logger: Logger;
  metrics?: Pick<Metrics, 'jobEnteredStatus'> | undefined;
  /** Called once per job, after the change that ended it has been persisted. */
  onTerminal(job: JobRecord): void;
  /** Called after every change has been persisted. */
  onChanged?: ((job: JobRecord) => void) | undefined;
}

/** Writers of one job are few (submitter, tracker, webhook, cancel); more rounds mean a bug. */
const MAX_ROUNDS = 20;

export function createJobWriter(deps: JobWriterDeps): JobWriter {
  const { store, pubsub, logger } = deps;

  const publish = async (job: JobRecord) => {
    const event = { job };
    try {
      await Promise.all([
        pubsub.publish(topics.job(job.id), event),
        pubsub.publish(topics.owner(job.ownerKeyId), event),
        pubsub.publish(topics.all(), event),
      ]);
    } catch (error) {
      // The state is persisted; a subscriber that missed the event sees it on its next read.
      logger.warn({ jobId: job.id, err: error }, 'publishing a job change failed');
    }
  };

  return {
    publish,
    async change(jobId, decide, known) {
      let current = known ?? (await store.getJob(jobId));
      for (let round = 0; round < MAX_ROUNDS; round++) {
        if (current === null) return null;
        const patch = decide(current);
        if (patch === null) return null;
        const changed = await store.updateJob(jobId, current.version, patch);
        if (changed !== null) {
          await publish(changed);
          deps.onChanged?.(changed);
          if (changed.status !== current.status) deps.metrics?.jobEnteredStatus(changed.status);
          if (isTerminal(changed.status) && !isTerminal(current.status)) deps.onTerminal(changed);
          return changed;
        }
        current = await store.getJob(jobId);
      }
      throw new Error(`Job ${jobId} kept changing under ${MAX_ROUNDS} attempts to update it`);
    },
  };
}

/**
 * Image retention (IMAGE_RETENTION_DAYS): every `intervalMs`, the images of completed jobs that
 * ended more than `retentionMs` ago are deleted from the image store, a batch of jobs at a
 * time, and each job gets `imagesExpiredAt` (its image URLs then answer 410 Gone). The images
 * go first and the mark after, so a run cut short (a crash, a store outage) leaves the job
 * to the next run: deleting again is harmless.
 *
 * One sweeper at a time across instances: a run first takes the store's `image-sweep` lease
 * (a claimed row, renewed per batch), so other instances skip their run. Were a lease to
 * lapse mid-run, two sweeps would only delete and mark the same things twice. With nothing to
 * do a run costs the lease and one indexed query.
 */
import type { Logger } from '../domain/logger.ts';
import type { ImageStore } from '../images/image-store.ts';
import type { Metrics, SweepResult } from '../metrics.ts';
import type { Store } from '../store/store.ts';

export const IMAGE_SWEEP_LEASE = 'image-sweep';

export interface ImageSweeperOptions {
  /** Images are deleted this long after their job ended. */
  retentionMs: number;
  /** Between runs; default 10 minutes. */
  intervalMs?: number | undefined;
  /** Jobs per batch; default 100. */
  batchSize?: number | undefined;
  /** How long a run's lease lasts unless renewed; default 5 minutes. */
  leaseMs?: number | undefined;
}

export interface SweepOutcome {
  result: SweepResult;
  expiredJobs: number;
  deletedObjects: number;
}

export interface ImageSweeper {
  /** A run, once any run in progress has ended (runs never overlap within an instance). */
  sweep(): Promise<SweepOutcome>;
  /** Runs now, then every intervalMs. */
  start(): void;
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

export interface ImageSweeperDeps {
  store: Store;
  images: ImageStore;
  instanceId: string;
  logger: Logger;
  metrics?: Pick<Metrics, 'imageSweep'> | undefined;
  now?: (() => Date) | undefined;
  options: ImageSweeperOptions;
}

export function createImageSweeper(deps: ImageSweeperDeps): ImageSweeper {
  const { store, images, instanceId, logger, metrics } = deps;
  const now = deps.now ?? (() => new Date());
  const { retentionMs } = deps.options;
  const intervalMs = deps.options.intervalMs ?? 10 * 60_000;
  const batchSize = deps.options.batchSize ?? 100;
  const leaseMs = deps.options.leaseMs ?? 5 * 60_000;
  let running: Promise<SweepOutcome> | null = null;
  let timer: NodeJS.Timeout | undefined;

  const lease = () => {
    const at = now();
    return store.takeLease(IMAGE_SWEEP_LEASE, instanceId, at, new Date(at.getTime() + leaseMs));
  };

  async function run(): Promise<SweepOutcome> {
    const outcome: SweepOutcome = { result: 'skipped', expiredJobs: 0, deletedObjects: 0 };
    if (!(await lease())) return outcome;
    try {
      const endedBefore = new Date(now().getTime() - retentionMs);
      for (;;) {
        const jobs = await store.listJobsWithImagesEndedBefore(endedBefore, batchSize);
        for (const job of jobs) {
          const deleted = await images.removeJob(job.id);
          outcome.deletedObjects += deleted.objects;
          if (await store.markImagesExpired(job.id, now())) outcome.expiredJobs++;
        }
        if (jobs.length < batchSize || !(await lease())) break;
      }
      outcome.result = 'swept';
    } catch (error) {
      outcome.result = 'failed';
      logger.error(
        { err: error, ...outcome },
        'image retention sweep failed; the next run retries',
      );
    } finally {
      await store.releaseLease(IMAGE_SWEEP_LEASE, instanceId).catch(() => {});
    }
    if (outcome.expiredJobs > 0) logger.info({ ...outcome }, 'expired the images of old jobs');
    return outcome;
  }

  const counted = () =>
    run()
      .catch((error: unknown): SweepOutcome => {
        // The lease itself could not be read or taken (the store is down).
        logger.error({ err: error }, 'image retention sweep failed; the next run retries');
        return { result: 'failed', expiredJobs: 0, deletedObjects: 0 };
      })
      .then((outcome) => {
        metrics?.imageSweep(outcome.result, outcome.deletedObjects);
        return outcome;
      });

  /** A run that starts after this call: after the one in progress, if any. */
  const sweep = (): Promise<SweepOutcome> => {
    const next: Promise<SweepOutcome> = (running ?? Promise.resolve()).then(counted).finally(() => {
      if (running === next) running = null;
    });
    running = next;
    return next;
  };

  return {
    sweep,
    start() {
      if (timer) return;
      // A tick while a run is still going is skipped, so slow runs never pile up.
      const tick = () => {
        if (!running) void sweep();
      };
      timer = setInterval(tick, intervalMs);
      timer.unref();
      tick();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}

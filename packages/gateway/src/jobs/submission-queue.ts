/**
 * The gateway's own queue in front of Pixazo: jobs wait here in arrival order (FIFO) until one
 * of `maxConcurrency` slots is free, so a burst of requests never floods Pixazo. A slot is taken
 * from dispatch until the job ends (or stops being tracked), not just for the POST, because the
 * cap is on work running at Pixazo. The queue holds ids only; the store holds the jobs.
 *
 * A gate (`mayDispatch`) can hold the queue while Pixazo is known to refuse work
 * (upstream-health.ts): the jobs keep their places, and `wake()` tries again.
 */

export interface SubmissionQueueOptions {
  maxConcurrency: number;
  /** Starts sending one job; its slot stays taken until `release(jobId)`. */
  dispatch(jobId: string): void;
  /** Waiting jobs whose position moved, batched per tick, so subscribers can be told. */
  onPositionsChanged(jobIds: string[]): void;
  /** Asked last, before each dispatch: false holds the queue until `wake()`. Default: yes. */
  mayDispatch?(jobId: string): boolean;
}

export interface SubmissionQueue {
  /** Appends a job waiting for submission. */
  enqueue(jobId: string): void;
  /** Takes a waiting job out (it was cancelled); false when it was not waiting. */
  remove(jobId: string): boolean;
  /** Counts a job that is already at Pixazo (resumed after a restart) against the cap. */
  occupy(jobId: string): void;
  /** The job no longer runs at Pixazo (ended or cancelled): its slot goes to the next one. */
  release(jobId: string): void;
  /** 1-based position among waiting jobs; null when not waiting. */
  position(jobId: string): number | null;
  /** Starts (or resumes) dispatching. */
  start(): void;
  /** Stops dispatching; waiting jobs stay queued. */
  pause(): void;
  /** The gate may say yes again: dispatches what it now allows (nothing unless started). */
  wake(): void;
  readonly waitingCount: number;
  readonly inFlightCount: number;
}

export function createSubmissionQueue(options: SubmissionQueueOptions): SubmissionQueue {
  if (!Number.isInteger(options.maxConcurrency) || options.maxConcurrency < 1) {
    throw new RangeError('maxConcurrency must be a positive integer');
  }
  const waiting: string[] = [];
  const inFlight = new Set<string>();
  let running = false;
  let moved = new Set<string>();

  const notifyFrom = (index: number) => {
    if (index >= waiting.length) return;
    const first = moved.size === 0;
    for (const jobId of waiting.slice(index)) moved.add(jobId);
    if (!first) return;
    queueMicrotask(() => {
      // Only those still waiting: a job dispatched meanwhile is announced by its own change.
      const jobIds = [...moved].filter((jobId) => waiting.includes(jobId));
      moved = new Set();
      if (jobIds.length > 0) options.onPositionsChanged(jobIds);
    });
  };

  const pump = () => {
    let dispatched = 0;
    while (
      running &&
      inFlight.size < options.maxConcurrency &&
      waiting.length > 0 &&
      (options.mayDispatch?.(waiting[0] as string) ?? true)
    ) {
      const jobId = waiting.shift() as string;
      inFlight.add(jobId);
      dispatched++;
      options.dispatch(jobId);
    }
    if (dispatched > 0) notifyFrom(0);
  };

  return {
    enqueue(jobId) {
      if (waiting.includes(jobId) || inFlight.has(jobId)) return;
      waiting.push(jobId);
      pump();
    },
    remove(jobId) {
      const index = waiting.indexOf(jobId);
      if (index < 0) return false;
      waiting.splice(index, 1);
      notifyFrom(index);
      return true;
    },
    occupy(jobId) {
      inFlight.add(jobId);
    },
    release(jobId) {
      if (inFlight.delete(jobId)) pump();
    },
    position(jobId) {
      const index = waiting.indexOf(jobId);
      return index < 0 ? null : index + 1;
    },
    start() {
      running = true;
      pump();
    },
    pause() {
      running = false;
    },
    wake: () => pump(),
    get waitingCount() {
      return waiting.length;
    },
    get inFlightCount() {
      return inFlight.size;
    },
  };
}

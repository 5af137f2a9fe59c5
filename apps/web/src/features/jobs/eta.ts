/**
 * How long a job will likely run, from how long recent jobs of the same model and steps took
 * (from their submission to Pixazo to their result) and, until there are a few of those, the
 * gateway's own estimate for the job's settings (`Job.expectedDurationMs`, measured the same
 * way). A range rather than a number: the same settings vary run to run, and a range says so
 * honestly.
 */
import type { Job } from '../../graphql/operations.ts';
import { between, formatDuration } from '../../ui/format.ts';

export interface EtaRange {
  lowMs: number;
  highMs: number;
}

/** How many recent runs an estimate looks at. */
const RECENT = 10;
/** Below this many runs with the same image count, jobs with any image count are used. */
const ENOUGH_SAME_COUNT = 3;
/** Below this many similar runs, the gateway's estimate counts as one more run. */
const ENOUGH_RUNS = 3;

/** Run times of the newest completed jobs like this one, newest first. */
export function similarRunTimes(
  like: Pick<Job, 'id' | 'model' | 'numInferenceSteps' | 'numImages'>,
  completed: readonly Job[],
): number[] {
  const sameSettings = completed.filter(
    (job) =>
      job.id !== like.id &&
      job.status === 'COMPLETED' &&
      job.model === like.model &&
      job.numInferenceSteps === like.numInferenceSteps,
  );
  const sameCount = sameSettings.filter((job) => job.numImages === like.numImages);
  const pool = sameCount.length >= ENOUGH_SAME_COUNT ? sameCount : sameSettings;
  return pool
    .map((job) => between(job.startedAt, job.completedAt))
    .filter((ms): ms is number => ms !== null && ms >= 0)
    .slice(0, RECENT);
}

/**
 * The middle 80 % of the runs once there are many, else all of them; with fewer than
 * ENOUGH_RUNS, the gateway's `expectedMs` joins them, so that a first job has an estimate too
 * and a single odd run does not make the whole range.
 */
export function estimateRange(runTimes: readonly number[], expectedMs: number): EtaRange {
  const pool = runTimes.length < ENOUGH_RUNS ? [...runTimes, expectedMs] : [...runTimes];
  const sorted = pool.sort((a, b) => a - b);
  const at = (fraction: number) => sorted[Math.round(fraction * (sorted.length - 1))] as number;
  const trim = sorted.length >= 5 ? 0.1 : 0;
  return { lowMs: at(trim), highMs: at(1 - trim) };
}

/** "about 3–5 s left", "usually 4–6 s", or a note that this run takes longer than usual. */
export function describeEta(range: EtaRange, elapsedMs: number): string {
  const low = range.lowMs - elapsedMs;
  const high = range.highMs - elapsedMs;
  if (high <= 0)
    return `Taking longer than usual (usually ${formatSpan(range.lowMs, range.highMs)})`;
  if (low <= 0) return `Almost done: up to ${formatDuration(high)} left`;
  return `About ${formatSpan(low, high)} left`;
}

function formatSpan(lowMs: number, highMs: number): string {
  const low = formatDuration(lowMs);
  const high = formatDuration(highMs);
  if (low === high) return low;
  // "3–5 s" rather than "3 s–5 s" when both share the unit.
  const [lowNumber, lowUnit] = low.split(' ');
  return lowUnit && high.endsWith(` ${lowUnit}`) && !low.includes('min')
    ? `${lowNumber}–${high}`
    : `${low} – ${high}`;
}

/** Share of the expected run done, for a progress bar; never claims 100 % before the end. */
export function expectedProgress(range: EtaRange, elapsedMs: number): number {
  const expected = (range.lowMs + range.highMs) / 2;
  return expected > 0 ? Math.min(0.95, elapsedMs / expected) : 0;
}

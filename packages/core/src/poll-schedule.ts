import {
  expectedDurationMs,
  type GenerateParams,
  MODELS,
  modelOfRequestId,
} from '@zimage/pixazo-spec';

/**
 * When to poll a job's status. Jobs end close to the model table's expectation (the simulator
 * within ±10%), so the reads cluster there: by default at 0.9, 1.0 and 1.15 of the expected
 * duration, which sees a typical job done within a tenth of its duration in at most three
 * reads. A job still running after them was held up (a busy Pixazo), so the reads back off
 * geometrically from a quarter of the expected duration to the cap, 8 s, inside the 5–10 s
 * Pixazo suggests. Every delay is clamped to [minIntervalMs, maxIntervalMs].
 */

export interface PollSchedule {
  /** Delay before the first poll, replacing the marks near the end (then backs off from it). */
  firstDelayMs?: number | undefined;
  /** Where the first polls fall, as increasing fractions of the expected duration. */
  nearEnd: readonly number[];
  /** Growth between successive delays after them. */
  factor: number;
  /** No delay is shorter than this. */
  minIntervalMs: number;
  /** No delay is longer than this. */
  maxIntervalMs: number;
}

export const DEFAULT_POLL_SCHEDULE: Readonly<PollSchedule> = {
  nearEnd: [0.9, 1, 1.15],
  factor: 1.5,
  minIntervalMs: 1_000,
  maxIntervalMs: 8_000,
};

/** The share of the expected duration the back-off after the marks starts from. */
const BACKOFF_SHARE = 0.25;

/**
 * Delay before poll number `pollIndex` (0 = the first, counted from the start of the wait; each
 * later one from the poll before it). E.g. Turbo's defaults (expected 2.8 s): 2.52 s, then
 * 0.28 → 1 s and 0.42 → 1 s (the floor), then 1 s (0.7 floored), 1.05 s, 1.58 s, … 8 s.
 */
export function pollDelayMs(
  pollIndex: number,
  expectedMs: number,
  schedule: PollSchedule = DEFAULT_POLL_SCHEDULE,
): number {
  const clamp = (ms: number) =>
    Math.round(Math.min(schedule.maxIntervalMs, Math.max(schedule.minIntervalMs, ms)));
  const { firstDelayMs } = schedule;
  if (firstDelayMs !== undefined) return clamp(firstDelayMs * schedule.factor ** pollIndex);
  const marks = schedule.nearEnd.map((share) => share * expectedMs);
  if (pollIndex < marks.length) {
    return clamp((marks[pollIndex] ?? 0) - (marks[pollIndex - 1] ?? 0));
  }
  return clamp(BACKOFF_SHARE * expectedMs * schedule.factor ** (pollIndex - marks.length));
}

/**
 * How long a job is expected to take: from its parameters when known, else from the request
 * id's model prefix with that model's default parameters, else undefined (unknown model).
 */
export function expectedDurationOf(
  requestId: string,
  params?: Pick<GenerateParams, 'model' | 'numInferenceSteps' | 'numImages' | 'acceleration'>,
): number | undefined {
  if (params) return expectedDurationMs(MODELS[params.model], params);
  const spec = modelOfRequestId(requestId);
  if (!spec) return undefined;
  return expectedDurationMs(spec, {
    numInferenceSteps: spec.steps.default,
    numImages: spec.numImages.default,
    acceleration: spec.defaultAcceleration,
  });
}

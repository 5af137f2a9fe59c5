import {
  expectedDurationMs,
  type GenerateParams,
  MODELS,
  modelOfRequestId,
} from '@zimage/pixazo-spec';

/**
 * When to poll a job's status. The first poll comes near the model's expected duration (capped),
 * because polling earlier only costs requests; later polls back off geometrically to the cap,
 * which defaults to 8 s, inside the 5–10 s Pixazo suggests.
 */

export interface PollSchedule {
  /** Delay before the first poll; default: the job's expected duration. Clamped like the rest. */
  firstDelayMs?: number | undefined;
  /** Growth between successive delays. */
  factor: number;
  /** No delay is shorter than this. */
  minIntervalMs: number;
  /** No delay is longer than this. */
  maxIntervalMs: number;
}

export const DEFAULT_POLL_SCHEDULE: Readonly<PollSchedule> = {
  factor: 1.5,
  minIntervalMs: 1_000,
  maxIntervalMs: 8_000,
};

/**
 * Delay before poll number `pollIndex` (0 = the first, counted from the start of the wait):
 * clamp(first · factor^pollIndex, min, max), where first = firstDelayMs ?? expectedMs.
 * E.g. Turbo's defaults (expected 2.8 s): 2.8 s, 4.2 s, 6.3 s, 8 s, 8 s, …
 */
export function pollDelayMs(
  pollIndex: number,
  expectedMs: number,
  schedule: PollSchedule = DEFAULT_POLL_SCHEDULE,
): number {
  const first = schedule.firstDelayMs ?? expectedMs;
  const raw = first * schedule.factor ** pollIndex;
  return Math.round(Math.min(schedule.maxIntervalMs, Math.max(schedule.minIntervalMs, raw)));
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

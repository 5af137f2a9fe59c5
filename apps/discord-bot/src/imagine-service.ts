/**
 * The bot's decisions, free of I/O so that they can be tested with a fake clock: which request
 * a command becomes, who may start a job now, which gateway updates the user should see, when
 * the message may be edited again, when the interaction token can no longer be trusted, and
 * how long a job will probably take.
 */
import {
  type GatewayErrorCode,
  type GatewayJob,
  GatewayRequestError,
  type GenerateImageInput,
  type ImageSize,
  type Model,
  type ModelInfo,
  type OutputFormat,
  TERMINAL_STATUSES,
} from './gateway-client.ts';

export interface Clock {
  now(): number;
  /** Runs `run` after `ms`; the returned function cancels it. */
  setTimer(run: () => void, ms: number): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(run, ms) {
    const timer = setTimeout(run, ms);
    return () => clearTimeout(timer);
  },
};

/** What the user asked for, as the command options or a button on an earlier result give it. */
export interface ImagineOptions {
  prompt: string;
  model?: Model | undefined;
  size?: ImageSize | undefined;
  steps?: number | undefined;
  images?: number | undefined;
  format?: OutputFormat | undefined;
  guidance?: number | undefined;
  /** false turns Pixazo's safety checker off. */
  safety?: boolean | undefined;
}

/** Something the user can fix or wait out; the presenter turns it into a short message. */
export type Problem =
  | { kind: 'invalid-option'; option: string; message: string }
  | { kind: 'safety-off-outside-age-restricted' }
  | { kind: 'too-many-in-flight'; limit: number }
  | { kind: 'cooldown'; retryAt: number }
  | { kind: 'not-owner' }
  | { kind: 'unknown-button' }
  | { kind: 'job-not-found'; jobId: string }
  | {
      kind: 'gateway';
      code: GatewayErrorCode;
      message?: string | undefined;
      field?: string | undefined;
      retryAt?: number | undefined;
    };

export type Checked<T> = { ok: true; value: T } | { ok: false; problem: Problem };

const DEFAULT_MODEL: Model = 'Z_IMAGE_TURBO';
const DEFAULT_SIZE: ImageSize = 'SQUARE_1_1';

/** The problem to show for a failed gateway call (anything unexpected shows as INTERNAL). */
export function problemOf(error: unknown, now: number): Problem {
  if (!(error instanceof GatewayRequestError)) return { kind: 'gateway', code: 'INTERNAL' };
  return {
    kind: 'gateway',
    code: error.code,
    message: error.message,
    field: error.field,
    retryAt:
      error.retryAfterSeconds === undefined ? undefined : now + error.retryAfterSeconds * 1000,
  };
}

/** Discord users are end users `discord:<user id>` at the gateway. */
export function endUserIdOf(discordUserId: string): string {
  return `discord:${discordUserId}`;
}

/** The Discord user a job was made for, or null when it was not made through the bot. */
export function discordUserOf(job: Pick<GatewayJob, 'endUserId'>): string | null {
  const match = /^discord:(\d+)$/.exec(job.endUserId ?? '');
  return match?.[1] ?? null;
}

/**
 * Channel policy, decided before the first response: turning the safety checker off is for
 * age-restricted channels only, so that nobody gets unfiltered images in front of everyone.
 */
export function checkChannelPolicy(
  options: ImagineOptions,
  channel: { ageRestricted: boolean },
): Problem | null {
  return options.safety === false && !channel.ageRestricted
    ? { kind: 'safety-off-outside-age-restricted' }
    : null;
}

/** The gateway request for `options`, checked against the gateway's own model list first. */
export function buildGenerateInput(
  options: ImagineOptions,
  models: readonly ModelInfo[],
  ids: { discordUserId: string; idempotencyKey: string },
): Checked<GenerateImageInput> {
  const invalid = (option: string, message: string): Checked<GenerateImageInput> => ({
    ok: false,
    problem: { kind: 'invalid-option', option, message },
  });
  const modelId = options.model ?? DEFAULT_MODEL;
  const model = models.find((m) => m.id === modelId);
  if (!model) return invalid('model', `${modelId} is not offered by this gateway.`);
  const prompt = options.prompt.trim();
  if (!prompt) return invalid('prompt', 'Describe the image you want.');
  if (
    options.steps !== undefined &&
    (options.steps < model.minSteps || options.steps > model.maxSteps)
  ) {
    return invalid(
      'steps',
      `${model.name} takes ${model.minSteps}–${model.maxSteps} steps (default ${model.defaultSteps}).`,
    );
  }
  if (options.guidance !== undefined) {
    const { minGuidanceScale: min, maxGuidanceScale: max } = model;
    if (!model.supportsGuidanceScale || min == null || max == null) {
      return invalid(
        'guidance',
        `${model.name} has no guidance setting; leave it out or pick another model.`,
      );
    }
    if (options.guidance < min || options.guidance > max) {
      return invalid('guidance', `${model.name} takes a guidance of ${min}–${max}.`);
    }
  }
  if (options.images !== undefined && (options.images < 1 || options.images > model.maxImages)) {
    return invalid('images', `Ask for 1 to ${model.maxImages} images.`);
  }
  return {
    ok: true,
    value: {
      model: model.id,
      prompt,
      imageSize: options.size ?? DEFAULT_SIZE,
      ...(options.steps === undefined ? {} : { numInferenceSteps: options.steps }),
      ...(options.guidance === undefined ? {} : { guidanceScale: options.guidance }),
      numImages: options.images ?? 1,
      enableSafetyChecker: options.safety ?? true,
      outputFormat: options.format ?? 'PNG',
      idempotencyKey: ids.idempotencyKey,
      endUserId: endUserIdOf(ids.discordUserId),
    },
  };
}

export type RerunVariant = 'reroll' | 'vary' | 'switch';

/**
 * The options for a new job made from a button under an earlier result: the same request again
 * (re-roll), four of them (vary), or the same prompt on the other model with that model's
 * defaults (the two models' step scales differ, so carrying the steps over would mislead).
 */
export function rerunOptions(
  job: GatewayJob,
  variant: RerunVariant,
  models: readonly ModelInfo[],
): ImagineOptions {
  const same: ImagineOptions = {
    prompt: job.prompt,
    model: job.model,
    size: job.imageSize,
    steps: job.numInferenceSteps,
    images: job.numImages,
    format: job.outputFormat,
    guidance: job.guidanceScale ?? undefined,
    safety: job.enableSafetyChecker,
  };
  if (variant === 'reroll') return same;
  if (variant === 'vary') return { ...same, images: 4 };
  const other = models.find((m) => m.id !== job.model);
  return other ? { ...same, model: other.id, steps: undefined, guidance: undefined } : same;
}

/** A user's place in the bot's own limits, held from admission until the job ends. */
export interface Admission {
  /** The job ran (or at least reached the gateway): the cooldown stands. */
  finish(): void;
  /** The request never became a job: as if it had not been made. */
  withdraw(): void;
}

/**
 * Per-user in-flight cap and cooldown, in front of the gateway's own per-user limits: they
 * answer at once, without a network call, so a user spamming /imagine never costs a request.
 */
export class UserLimits {
  readonly #maxInFlight: number;
  readonly #cooldownMs: number;
  readonly #clock: Clock;
  readonly #inFlight = new Map<string, number>();
  readonly #lastAdmittedAt = new Map<string, number>();

  constructor(options: { maxInFlight: number; cooldownSeconds: number; clock: Clock }) {
    this.#maxInFlight = options.maxInFlight;
    this.#cooldownMs = options.cooldownSeconds * 1000;
    this.#clock = options.clock;
  }

  admit(userId: string): Checked<Admission> {
    const now = this.#clock.now();
    const running = this.#inFlight.get(userId) ?? 0;
    if (this.#maxInFlight > 0 && running >= this.#maxInFlight) {
      return { ok: false, problem: { kind: 'too-many-in-flight', limit: this.#maxInFlight } };
    }
    const previous = this.#lastAdmittedAt.get(userId);
    if (previous !== undefined && now < previous + this.#cooldownMs) {
      return { ok: false, problem: { kind: 'cooldown', retryAt: previous + this.#cooldownMs } };
    }
    this.#inFlight.set(userId, running + 1);
    this.#lastAdmittedAt.set(userId, now);
    let settled = false;
    const release = () => {
      if (settled) return false;
      settled = true;
      const left = (this.#inFlight.get(userId) ?? 1) - 1;
      if (left > 0) this.#inFlight.set(userId, left);
      else this.#inFlight.delete(userId);
      return true;
    };
    return {
      ok: true,
      value: {
        finish: () => void release(),
        withdraw: () => {
          if (!release()) return;
          if (previous === undefined) this.#lastAdmittedAt.delete(userId);
          else this.#lastAdmittedAt.set(userId, previous);
        },
      },
    };
  }
}

/** What the user sees of a job: the job plus what the bot works out about it. */
export type JobProgress =
  | { phase: 'queued'; job: GatewayJob }
  | { phase: 'processing'; job: GatewayJob; startedAt: number; etaAt: number }
  | { phase: 'completed'; job: GatewayJob; durationMs: number }
  | { phase: 'failed'; job: GatewayJob };

const STATUS_ORDER: Record<GatewayJob['status'], number> = {
  QUEUED: 0,
  PROCESSING: 1,
  COMPLETED: 2,
  FAILED: 2,
  ERROR: 2,
  CANCELLED: 2,
};

/**
 * The job state machine as the bot follows it: QUEUED → PROCESSING → a terminal state.
 * Updates that go backwards (a late delivery after a reconnect) are dropped, and so are updates
 * that change nothing the user sees, so they cost no Discord edit.
 */
export class JobTracker {
  readonly #eta: EtaEstimator;
  readonly #clock: Clock;
  #last: JobProgress | undefined;

  constructor(eta: EtaEstimator, clock: Clock) {
    this.#eta = eta;
    this.#clock = clock;
  }

  /** The progress to show for `job`, or null when the user would see no difference. */
  next(job: GatewayJob): JobProgress | null {
    const last = this.#last;
    if (last) {
      if (TERMINAL_STATUSES.has(last.job.status)) return null;
      if (STATUS_ORDER[job.status] < STATUS_ORDER[last.job.status]) return null;
      if (job.status === last.job.status && job.queuePosition === last.job.queuePosition) {
        return null;
      }
    }
    const progress = this.#progressOf(job);
    if (progress.phase === 'completed') this.#eta.record(job);
    this.#last = progress;
    return progress;
  }

  #progressOf(job: GatewayJob): JobProgress {
    switch (job.status) {
      case 'QUEUED':
        return { phase: 'queued', job };
      case 'PROCESSING': {
        // Keep the first estimate: an ETA that moves on every update is worse than none.
        if (this.#last?.phase === 'processing') return { ...this.#last, job };
        const startedAt = job.startedAt ? Date.parse(job.startedAt) : this.#clock.now();
        return {
          phase: 'processing',
          job,
          startedAt,
          etaAt: startedAt + this.#eta.estimateMs(job),
        };
      }
      case 'COMPLETED':
        return {
          phase: 'completed',
          job,
          durationMs:
            (job.completedAt ? Date.parse(job.completedAt) : this.#clock.now()) -
            Date.parse(job.createdAt),
        };
      default:
        return { phase: 'failed', job };
    }
  }
}

/**
 * How long a job stays PROCESSING: per model, milliseconds per unit of work, where extra
 * images cost a fraction of the first. It starts from rough priors and follows what the
 * gateway actually reports, so the ETA adapts to the real upstream.
 */
export class EtaEstimator {
  static readonly EXTRA_IMAGE_FACTOR = 0.6;
  /** Weight of the newest observation. */
  static readonly SMOOTHING = 0.3;
  readonly #msPerStep = new Map<Model, number>([
    ['Z_IMAGE_TURBO', 300],
    ['Z_IMAGE_BASE', 800],
  ]);

  estimateMs(job: GatewayJob): number {
    return Math.round(this.#rate(job.model) * EtaEstimator.#work(job));
  }

  record(job: GatewayJob): void {
    if (!job.startedAt || !job.completedAt) return;
    const elapsed = Date.parse(job.completedAt) - Date.parse(job.startedAt);
    if (!(elapsed > 0)) return;
    const observed = elapsed / EtaEstimator.#work(job);
    const rate = this.#rate(job.model);
    this.#msPerStep.set(job.model, rate + EtaEstimator.SMOOTHING * (observed - rate));
  }

  #rate(model: Model): number {
    return this.#msPerStep.get(model) ?? 1000;
  }

  static #work(job: GatewayJob): number {
    return (
      Math.max(1, job.numInferenceSteps) *
      (1 + (Math.max(1, job.numImages) - 1) * EtaEstimator.EXTRA_IMAGE_FACTOR)
    );
  }
}

/**
 * Edits of one message, at most one per `minIntervalMs` (Discord rate-limits message edits,
 * and a user cannot read faster anyway). Intermediate states may be skipped, only the newest
 * pending one is sent; the final state is always sent, last, and never overtaken.
 */
export class ThrottledEditor<T> {
  readonly #send: (value: T) => Promise<void>;
  readonly #clock: Clock;
  readonly #minIntervalMs: number;
  #lastSentAt = Number.NEGATIVE_INFINITY;
  #pending: { value: T } | undefined;
  #sending = false;
  /** A timer will pump once the interval has passed. */
  #waiting = false;
  #finalQueued = false;
  /** Settles once the final state has been sent. */
  readonly #drained = Promise.withResolvers<void>();

  constructor(options: {
    send: (value: T) => Promise<void>;
    clock: Clock;
    minIntervalMs?: number;
  }) {
    this.#send = options.send;
    this.#clock = options.clock;
    this.#minIntervalMs = options.minIntervalMs ?? 2000;
  }

  /** Shows `value` as soon as the interval allows, unless something newer comes first. */
  push(value: T): void {
    if (this.#finalQueued) return;
    this.#pending = { value };
    this.#pump();
  }

  /** Shows `value` last; resolves once it has been sent (or its sending failed). */
  finish(value: T): Promise<void> {
    if (!this.#finalQueued) {
      this.#finalQueued = true;
      this.#pending = { value };
    }
    this.#pump();
    return this.#drained.promise;
  }

  #pump(): void {
    if (this.#sending || this.#waiting) return;
    if (!this.#pending) {
      if (this.#finalQueued) this.#drained.resolve();
      return;
    }
    const wait = this.#lastSentAt + this.#minIntervalMs - this.#clock.now();
    if (wait > 0) {
      this.#waiting = true;
      this.#clock.setTimer(() => {
        this.#waiting = false;
        this.#pump();
      }, wait);
      return;
    }
    const { value } = this.#pending;
    this.#pending = undefined;
    this.#sending = true;
    this.#lastSentAt = this.#clock.now();
    const done = () => {
      this.#sending = false;
      this.#pump();
    };
    // `send` reports its own failures; a failed edit must not stop the later ones.
    this.#send(value).then(done, done);
  }
}

/** Discord accepts interaction-token calls for 15 minutes after the interaction. */
const INTERACTION_TOKEN_LIFETIME_MS = 15 * 60_000;
/** Stop trusting the token a little early: a request sent at 14:59 may land at 15:01. */
const TOKEN_SAFETY_MARGIN_MS = 60_000;

/**
 * How to reach the job's message: through the interaction webhook while its token is valid,
 * then by editing the channel message with the bot's own token.
 */
export function messageRoute(interactionCreatedAt: number, now: number): 'interaction' | 'channel' {
  return now < interactionCreatedAt + INTERACTION_TOKEN_LIFETIME_MS - TOKEN_SAFETY_MARGIN_MS
    ? 'interaction'
    : 'channel';
}

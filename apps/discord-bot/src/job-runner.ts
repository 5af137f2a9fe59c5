/**
 * One job from the user's request to the delivered result, after the first response has gone
 * out: submit to the gateway, follow its updates, edit the message (throttled), attach the
 * images, ping the user. Where the message lives (interaction webhook or channel) is the
 * adapter's business, behind `JobMessage`; the decisions are the service's and the presenter's.
 */
import { type AttachmentFile, prepareImages } from './attachments.ts';
import {
  type GatewayClient,
  type GatewayJob,
  type ModelInfo,
  TERMINAL_STATUSES,
} from './gateway-client.ts';
import {
  type Admission,
  buildGenerateInput,
  type Checked,
  type Clock,
  checkChannelPolicy,
  discordUserOf,
  type EtaEstimator,
  type ImagineOptions,
  type JobProgress,
  JobTracker,
  type Problem,
  problemOf,
  type RerunVariant,
  rerunOptions,
  ThrottledEditor,
} from './imagine-service.ts';
import {
  endedMention,
  lostTrackMessage,
  type MessageBody,
  problemMessage,
  progressMessage,
  resultMessage,
} from './presenter.ts';

export type Log = (
  level: 'info' | 'warn' | 'error',
  message: string,
  details?: Record<string, unknown>,
) => void;

/** The public message a job is shown in, created by the deferred first response. */
export interface JobMessage {
  edit(body: MessageBody, files?: readonly AttachmentFile[]): Promise<void>;
  /** A new message after the job's one (the ping). */
  followUp(body: MessageBody): Promise<void>;
  /** The request came to nothing: remove the public message, tell the user privately why. */
  retract(body: MessageBody): Promise<void>;
  /** A link to the job's message, once an edit has created it. */
  url(): string | undefined;
}

/** What one interaction brings to a job. */
export interface RequestContext {
  userId: string;
  /** Makes the submission idempotent: a retried request for one interaction pays once. */
  interactionId: string;
  ageRestricted: boolean;
  /** The largest file Discord accepts in this channel. */
  attachmentLimitBytes: number;
  message: JobMessage;
}

export type GatewayPort = Pick<
  GatewayClient,
  'models' | 'generateImage' | 'job' | 'watchJob' | 'fetchImage' | 'absoluteUrl'
>;

export interface JobRunnerOptions {
  gateway: GatewayPort;
  clock: Clock;
  eta: EtaEstimator;
  log: Log;
  editIntervalMs?: number;
}

interface Rendered {
  body: MessageBody;
  files?: readonly AttachmentFile[];
}

export class JobRunner {
  readonly #gateway: GatewayPort;
  readonly #clock: Clock;
  readonly #eta: EtaEstimator;
  readonly #log: Log;
  readonly #editIntervalMs: number | undefined;

  constructor(options: JobRunnerOptions) {
    this.#gateway = options.gateway;
    this.#clock = options.clock;
    this.#eta = options.eta;
    this.#log = options.log;
    this.#editIntervalMs = options.editIntervalMs;
  }

  /** /imagine: the user's options, checked against the gateway's models, as a new job. */
  imagine(options: ImagineOptions, context: RequestContext, admission: Admission): Promise<void> {
    return this.#submit(context, admission, async () => ({ ok: true, value: options }));
  }

  /** A Re-roll, Vary or Switch button: a new job made from an earlier one. */
  rerun(
    jobId: string,
    variant: RerunVariant,
    context: RequestContext,
    admission: Admission,
  ): Promise<void> {
    return this.#submit(context, admission, async (models) => {
      const earlier = await this.#ownJob(jobId, context.userId);
      if (!earlier.ok) return earlier;
      const options = rerunOptions(earlier.value, variant, models);
      // The button may sit under a re-post in another channel than the original.
      const policy = checkChannelPolicy(options, context);
      return policy ? { ok: false, problem: policy } : { ok: true, value: options };
    });
  }

  /** /job: show one of the user's jobs again, live if it is still running. */
  async repost(jobId: string, context: RequestContext): Promise<void> {
    let found: Checked<GatewayJob>;
    try {
      found = await this.#ownJob(jobId, context.userId);
    } catch (error) {
      found = { ok: false, problem: this.#problemOf(error) };
    }
    if (!found.ok) return context.message.retract(problemMessage(found.problem));
    // Unfiltered images stay in age-restricted channels, wherever they are re-posted.
    const { prompt, enableSafetyChecker } = found.value;
    const policy = checkChannelPolicy({ prompt, safety: enableSafetyChecker }, context);
    if (policy) return context.message.retract(problemMessage(policy));
    await this.#follow(found.value, context, { pingWhenDone: false });
  }

  async #ownJob(jobId: string, userId: string): Promise<Checked<GatewayJob>> {
    const job = await this.#gateway.job(jobId);
    // Someone else's job reads as missing: job ids are not secrets, prompts may be.
    return job && discordUserOf(job) === userId
      ? { ok: true, value: job }
      : { ok: false, problem: { kind: 'job-not-found', jobId } };
  }

  async #submit(
    context: RequestContext,
    admission: Admission,
    resolveOptions: (models: readonly ModelInfo[]) => Promise<Checked<ImagineOptions>>,
  ): Promise<void> {
    let job: GatewayJob;
    try {
      const models = await this.#gateway.models();
      const options = await resolveOptions(models);
      const input = options.ok
        ? buildGenerateInput(options.value, models, {
            discordUserId: context.userId,
            idempotencyKey: `discord-interaction:${context.interactionId}`,
          })
        : options;
      if (!input.ok) return await this.#refuse(context, admission, input.problem);
      job = await this.#gateway.generateImage(input.value);
    } catch (error) {
      return await this.#refuse(context, admission, this.#problemOf(error));
    }
    this.#log('info', 'job submitted', { jobId: job.id, userId: context.userId });
    try {
      await this.#follow(job, context, { pingWhenDone: true });
    } finally {
      admission.finish();
    }
  }

  /** The user hears a friendly sentence; the operator gets the details of anything unexpected. */
  #problemOf(error: unknown): Problem {
    const problem = problemOf(error, this.#clock.now());
    if (
      problem.kind === 'gateway' &&
      ['INTERNAL', 'UNREACHABLE', 'UNAUTHENTICATED', 'FORBIDDEN'].includes(problem.code)
    ) {
      this.#log('error', 'gateway request failed', { code: problem.code, error: String(error) });
    }
    return problem;
  }

  async #refuse(context: RequestContext, admission: Admission, problem: Problem): Promise<void> {
    admission.withdraw();
    await context.message.retract(problemMessage(problem));
  }

  async #follow(
    first: GatewayJob,
    context: RequestContext,
    { pingWhenDone }: { pingWhenDone: boolean },
  ): Promise<void> {
    const ownerId = discordUserOf(first) ?? context.userId;
    const tracker = new JobTracker(this.#eta, this.#clock);
    const editor = new ThrottledEditor<Rendered>({
      clock: this.#clock,
      ...(this.#editIntervalMs === undefined ? {} : { minIntervalMs: this.#editIntervalMs }),
      send: async ({ body, files }) => {
        try {
          await context.message.edit(body, files);
        } catch (error) {
          this.#log('warn', 'message edit failed', { jobId: first.id, error: String(error) });
        }
      },
    });
    let cancelEtaRefresh: (() => void) | undefined;
    const show = (progress: Exclude<JobProgress, { phase: 'completed' }>) => {
      cancelEtaRefresh?.();
      editor.push({ body: progressMessage(progress, { ownerId, now: this.#clock.now() }) });
      const untilEta = progress.phase === 'processing' ? progress.etaAt - this.#clock.now() : 0;
      if (untilEta > 0) {
        // Re-render once the ETA has passed, so the message stops counting down into the past.
        cancelEtaRefresh = this.#clock.setTimer(() => show(progress), untilEta + 1000);
      }
    };

    let last: JobProgress | undefined;
    const consider = (update: GatewayJob) => {
      const progress = tracker.next(update);
      if (!progress) return;
      last = progress;
      if (progress.phase === 'queued' || progress.phase === 'processing') show(progress);
    };
    // The job as the mutation (or lookup) returned it is shown at once, before subscribing.
    consider(first);
    try {
      if (!TERMINAL_STATUSES.has(first.status)) {
        for await (const update of this.#gateway.watchJob(first.id)) consider(update);
      }
    } catch (error) {
      this.#log('error', 'lost track of job', { jobId: first.id, error: String(error) });
    } finally {
      cancelEtaRefresh?.();
    }

    if (last?.phase === 'completed') {
      const images = await prepareImages(
        last.job,
        this.#gateway,
        context.attachmentLimitBytes,
        (error) =>
          this.#log('warn', 'image download failed', { jobId: first.id, error: String(error) }),
      );
      await editor.finish({
        body: resultMessage(last.job, {
          ownerId,
          durationMs: last.durationMs,
          links: images.links,
        }),
        files: images.files,
      });
    } else if (last?.phase === 'failed') {
      await editor.finish({ body: progressMessage(last, { ownerId, now: this.#clock.now() }) });
    } else {
      await editor.finish({ body: lostTrackMessage(last?.job ?? first, ownerId) });
      return;
    }
    const url = context.message.url();
    if (pingWhenDone && url) {
      await context.message
        .followUp(endedMention(last.job, ownerId, url))
        .catch((error) =>
          this.#log('warn', 'follow-up failed', { jobId: first.id, error: String(error) }),
        );
    }
  }
}

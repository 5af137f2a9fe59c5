/**
 * One job from the user's request to the delivered result, after the first response has gone
 * out: submit to the gateway, follow its updates, edit the message (throttled), attach the
 * images, ping the user. A job still running is written down (`UnfinishedJobs`) until its
 * message is final, so that a restarted bot finishes it the same way (`resume`). Where the
 * message lives (interaction webhook or channel) is the adapter's business, behind
 * `JobMessage`; the decisions are the service modules' and the presenter's.
 */
import { type Job, type ModelInfo, type ZimageClient, ZimageError } from '@zimage/client';
import { isTerminalStatus } from '@zimage/contract';
import { type AttachmentFile, type ImageSource, prepareImages } from './attachments.ts';
import type { Clock } from './clock.ts';
import { type EditFormAnswers, parseEditForm } from './edit-form.ts';
import { endUserIdOf } from './end-users.ts';
import type { GatewayModels } from './gateway-models.ts';
import {
  buildGenerateInput,
  checkChannelPolicy,
  type ImagineOptions,
  type UserDefaults,
  withDefaults,
} from './imagine-request.ts';
import { type JobProgress, ProgressView } from './job-progress.ts';
import {
  endedMention,
  IMAGE_SIZES,
  isCancellable,
  lostTrackMessage,
  type MessageBody,
  problemMessage,
  progressMessage,
  resultMessage,
} from './presenter.ts';
import { type Checked, type Problem, problemOf } from './problems.ts';
import { editedOptions, type RerunVariant, rerunOptions } from './rerun.ts';
import { ThrottledEditor } from './throttled-editor.ts';
import type { Admission } from './user-limits.ts';

export type Log = (
  level: 'info' | 'warn' | 'error',
  message: string,
  details?: Record<string, unknown>,
) => void;

/** Where a job's message is: enough to reach it again after a restart. */
export interface MessageRef {
  applicationId: string;
  /** The interaction's token: a secret, accepted by Discord for 15 minutes. */
  token: string;
  channelId: string;
  guildId: string | null;
  /** The message itself, once the first edit has answered with it. */
  messageId: string | null;
  /** When Discord created the interaction, in ms. */
  interactionCreatedAt: number;
}

/** The public message a job is shown in, created by the deferred first response. */
export interface JobMessage {
  edit(body: MessageBody, files?: readonly AttachmentFile[]): Promise<void>;
  /** A new message after the job's one (the ping). */
  followUp(body: MessageBody): Promise<void>;
  /** The request came to nothing: remove the public message, tell the user privately why. */
  retract(body: MessageBody): Promise<void>;
  /** A link to the job's message, once an edit has created it. */
  url(): string | undefined;
  ref(): MessageRef;
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

/** A message the bot has still to finish: everything `resume` needs after a restart. */
export interface UnfinishedJob {
  interactionId: string;
  jobId: string;
  /** The Discord user the job is for. */
  userId: string;
  pingWhenDone: boolean;
  attachmentLimitBytes: number;
  message: MessageRef;
}

export interface UnfinishedJobsPort {
  /** Adds or replaces the entry of `job.interactionId`. */
  save(job: UnfinishedJob): void;
  remove(interactionId: string): void;
}

/** What the runner asks of the gateway: per Discord user, an end user of the bot's key. */
export interface GatewayPort {
  forEndUser(endUserId: string): Pick<ZimageClient, 'generate' | 'job' | 'watch' | 'cancel'>;
}

export interface JobRunnerOptions {
  gateway: GatewayPort;
  models: Pick<GatewayModels, 'get'>;
  downloadImage: ImageSource;
  unfinished: UnfinishedJobsPort;
  clock: Clock;
  log: Log;
  editIntervalMs?: number;
}

interface Rendered {
  body: MessageBody;
  files?: readonly AttachmentFile[];
}

/** Everything a job's message needs, whether it started now or before a restart. */
type FollowContext = Omit<UnfinishedJob, 'jobId' | 'message'> & {
  message: JobMessage;
  models: readonly ModelInfo[];
};

export class JobRunner {
  readonly #gateway: GatewayPort;
  readonly #models: Pick<GatewayModels, 'get'>;
  readonly #downloadImage: ImageSource;
  readonly #unfinished: UnfinishedJobsPort;
  readonly #clock: Clock;
  readonly #log: Log;
  readonly #editIntervalMs: number | undefined;

  constructor(options: JobRunnerOptions) {
    this.#gateway = options.gateway;
    this.#models = options.models;
    this.#downloadImage = options.downloadImage;
    this.#unfinished = options.unfinished;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#editIntervalMs = options.editIntervalMs;
  }

  /**
   * /imagine: the user's options, their own defaults (`/settings`) for what they left out,
   * checked against the gateway's models, as a new job.
   */
  imagine(
    options: ImagineOptions,
    context: RequestContext,
    admission: Admission,
    defaults: UserDefaults = {},
  ): Promise<void> {
    return this.#submit(context, admission, async (models) => ({
      ok: true,
      value: withDefaults(options, defaults, models),
    }));
  }

  /** Edit & re-roll: the earlier job's request with the form's edits, as a new job. */
  edit(
    jobId: string,
    answers: EditFormAnswers,
    context: RequestContext,
    admission: Admission,
  ): Promise<void> {
    return this.#submit(context, admission, async (models) => {
      const edits = parseEditForm(answers, models, IMAGE_SIZES);
      if (!edits.ok) return edits;
      return this.#fromEarlier(jobId, context, (earlier) => editedOptions(earlier, edits.value));
    });
  }

  /**
   * The Cancel button: only while the job still waits in the gateway's own queue, where
   * cancelling is free. Once it is at Pixazo it is paid, so it is left to finish and deliver.
   */
  async cancelQueued(jobId: string, userId: string): Promise<Checked<Job>> {
    try {
      const job = await this.#ownJob(jobId, userId);
      if (!job.ok) return job;
      if (isTerminalStatus(job.value.status))
        return { ok: false, problem: { kind: 'already-ended' } };
      if (!isCancellable(job.value)) return { ok: false, problem: { kind: 'already-sent' } };
      // The gateway may still claim the job between this read and the cancel: its cancelJob
      // has no "only if not sent" form, so the answer's cost says what happened (and is shown).
      const cancelled = await this.#endUser(userId).cancel(jobId);
      this.#log('info', 'job cancelled', { jobId, userId, costUsd: cancelled.costUsd });
      return { ok: true, value: cancelled };
    } catch (error) {
      return { ok: false, problem: this.#problemOf(error) };
    }
  }

  /** A Re-roll (or Retry), Vary or Switch button: a new job made from an earlier one. */
  rerun(
    jobId: string,
    variant: RerunVariant,
    context: RequestContext,
    admission: Admission,
  ): Promise<void> {
    return this.#submit(context, admission, (models) =>
      this.#fromEarlier(jobId, context, (earlier) => rerunOptions(earlier, variant, models)),
    );
  }

  /** The options of a new job made from one of the user's earlier ones. */
  async #fromEarlier(
    jobId: string,
    context: RequestContext,
    optionsOf: (earlier: Job) => ImagineOptions,
  ): Promise<Checked<ImagineOptions>> {
    const earlier = await this.#ownJob(jobId, context.userId);
    if (!earlier.ok) return earlier;
    const options = optionsOf(earlier.value);
    // The button may sit under a re-post in another channel than the original.
    const policy = checkChannelPolicy(options, context);
    return policy ? { ok: false, problem: policy } : { ok: true, value: options };
  }

  /** /job: show one of the user's jobs again, live if it is still running. */
  async repost(jobId: string, context: RequestContext): Promise<void> {
    let found: Checked<{ job: Job; models: ModelInfo[] }>;
    try {
      const job = await this.#ownJob(jobId, context.userId);
      found = job.ok
        ? { ok: true, value: { job: job.value, models: await this.#models.get() } }
        : job;
    } catch (error) {
      found = { ok: false, problem: this.#problemOf(error) };
    }
    if (!found.ok) return context.message.retract(problemMessage(found.problem));
    const { job, models } = found.value;
    // Unfiltered images stay in age-restricted channels, wherever they are re-posted.
    const policy = checkChannelPolicy(
      { prompt: job.prompt, safety: job.enableSafetyChecker },
      context,
    );
    if (policy) return context.message.retract(problemMessage(policy));
    await this.#follow(job, this.#watch(context.userId, job), {
      ...context,
      pingWhenDone: false,
      models,
    });
  }

  /**
   * A job whose message was not final when the bot stopped: follow it again and finish its
   * message as if nothing had happened. The job's current state is its watch's first.
   */
  async resume(entry: UnfinishedJob, message: JobMessage): Promise<void> {
    const states = this.#endUser(entry.userId).watch(entry.jobId)[Symbol.asyncIterator]();
    let first: Job;
    let models: ModelInfo[];
    try {
      const next = await states.next();
      if (next.done) throw new Error('the job’s updates ended before its first state');
      first = next.value;
      models = await this.#models.get();
    } catch (error) {
      await states.return?.();
      this.#log('error', 'could not resume a job', { jobId: entry.jobId, error: String(error) });
      // A job the gateway no longer shows will never be finished; anything else may next time.
      if (error instanceof ZimageError && error.code === 'NOT_FOUND') {
        this.#forget(entry.interactionId, entry.jobId);
      }
      return;
    }
    this.#log('info', 'job resumed', { jobId: entry.jobId, userId: entry.userId });
    await this.#follow(
      first,
      { [Symbol.asyncIterator]: () => states },
      {
        ...entry,
        message,
        models,
      },
    );
  }

  #endUser(userId: string) {
    return this.#gateway.forEndUser(endUserIdOf(userId));
  }

  /** The job's updates after `job`, or none when it has already ended. */
  #watch(userId: string, job: Job): AsyncIterable<Job> | null {
    return isTerminalStatus(job.status) ? null : this.#endUser(userId).watch(job.id);
  }

  /** Someone else's job reads as missing: job ids are not secrets, prompts may be. */
  async #ownJob(jobId: string, userId: string): Promise<Checked<Job>> {
    const job = await this.#endUser(userId).job(jobId);
    return job
      ? { ok: true, value: job }
      : { ok: false, problem: { kind: 'job-not-found', jobId } };
  }

  async #submit(
    context: RequestContext,
    admission: Admission,
    resolveOptions: (models: readonly ModelInfo[]) => Promise<Checked<ImagineOptions>>,
  ): Promise<void> {
    let job: Job;
    let models: ModelInfo[];
    try {
      models = await this.#models.get();
      const options = await resolveOptions(models);
      const input = options.ok
        ? buildGenerateInput(options.value, models, `discord-interaction:${context.interactionId}`)
        : options;
      if (!input.ok) return await this.#refuse(context, admission, input.problem);
      job = await this.#endUser(context.userId).generate(input.value);
    } catch (error) {
      return await this.#refuse(context, admission, this.#problemOf(error));
    }
    this.#log('info', 'job submitted', { jobId: job.id, userId: context.userId });
    try {
      await this.#follow(job, this.#watch(context.userId, job), {
        ...context,
        pingWhenDone: true,
        models,
      });
    } finally {
      admission.finish();
    }
  }

  /** The user hears a friendly sentence; the operator gets the details of anything unexpected. */
  #problemOf(error: unknown): Problem {
    const problem = problemOf(error, this.#clock.now());
    if (
      problem.kind === 'unexpected' ||
      (problem.kind === 'gateway' &&
        ['UNEXPECTED_RESPONSE', 'NETWORK_ERROR', 'UNAUTHENTICATED', 'FORBIDDEN'].includes(
          problem.code,
        ))
    ) {
      this.#log('error', 'gateway request failed', { error: String(error) });
    }
    return problem;
  }

  async #refuse(context: RequestContext, admission: Admission, problem: Problem): Promise<void> {
    admission.withdraw();
    await context.message.retract(problemMessage(problem));
  }

  /** Writes the message down as unfinished; a bot that cannot do so still finishes it now. */
  #remember(entry: UnfinishedJob): void {
    try {
      this.#unfinished.save(entry);
      this.#log('info', 'unfinished job noted', {
        jobId: entry.jobId,
        messageId: entry.message.messageId,
      });
    } catch (error) {
      this.#log('warn', 'could not note an unfinished job', {
        jobId: entry.jobId,
        error: String(error),
      });
    }
  }

  #forget(interactionId: string, jobId: string): void {
    try {
      this.#unfinished.remove(interactionId);
    } catch (error) {
      this.#log('warn', 'could not drop a finished job', { jobId, error: String(error) });
    }
  }

  async #follow(first: Job, updates: AsyncIterable<Job> | null, context: FollowContext) {
    const { message, models, userId: ownerId } = context;
    const entry = (): UnfinishedJob => ({
      interactionId: context.interactionId,
      jobId: first.id,
      userId: ownerId,
      pingWhenDone: context.pingWhenDone,
      attachmentLimitBytes: context.attachmentLimitBytes,
      message: message.ref(),
    });
    let noted = updates === null ? undefined : entry();
    if (noted) this.#remember(noted);

    const view = new ProgressView(this.#clock);
    const editor = new ThrottledEditor<Rendered>({
      clock: this.#clock,
      ...(this.#editIntervalMs === undefined ? {} : { minIntervalMs: this.#editIntervalMs }),
      send: async ({ body, files }) => {
        try {
          await message.edit(body, files);
        } catch (error) {
          this.#log('warn', 'message edit failed', { jobId: first.id, error: String(error) });
          return;
        }
        // The first edit tells which message it is: the way back to it through the channel.
        if (noted && noted.message.messageId !== message.ref().messageId) {
          noted = entry();
          this.#remember(noted);
        }
      },
    });
    const present = { ownerId, models };
    let cancelEtaRefresh: (() => void) | undefined;
    const show = (progress: Exclude<JobProgress, { phase: 'completed' }>) => {
      cancelEtaRefresh?.();
      editor.push({ body: progressMessage(progress, { ...present, now: this.#clock.now() }) });
      const untilEta = progress.phase === 'processing' ? progress.etaAt - this.#clock.now() : 0;
      if (untilEta > 0) {
        // Re-render once the ETA has passed, so the message stops counting down into the past.
        cancelEtaRefresh = this.#clock.setTimer(() => show(progress), untilEta + 1000);
      }
    };

    let last: JobProgress | undefined;
    const consider = (update: Job) => {
      const progress = view.next(update);
      if (!progress) return;
      last = progress;
      if (progress.phase === 'queued' || progress.phase === 'processing') show(progress);
    };
    consider(first);
    try {
      if (updates) for await (const update of updates) consider(update);
    } catch (error) {
      this.#log('error', 'lost track of job', { jobId: first.id, error: String(error) });
    } finally {
      cancelEtaRefresh?.();
    }

    if (last?.phase === 'completed') {
      // Retention deleted them: their URLs answer 410, and the result says they expired.
      const images = last.job.imagesExpiredAt
        ? { files: [], links: [] }
        : await prepareImages(
            last.job,
            this.#downloadImage,
            context.attachmentLimitBytes,
            (error) =>
              this.#log('warn', 'image download failed', { jobId: first.id, error: String(error) }),
          );
      await editor.finish({
        body: resultMessage(last.job, {
          ...present,
          durationMs: last.durationMs,
          links: images.links,
        }),
        files: images.files,
      });
    } else if (last?.phase === 'failed') {
      await editor.finish({ body: progressMessage(last, { ...present, now: this.#clock.now() }) });
    } else {
      await editor.finish({ body: lostTrackMessage(last?.job ?? first, ownerId) });
      this.#forget(context.interactionId, first.id);
      return;
    }
    const url = message.url();
    if (context.pingWhenDone && url) {
      await message
        .followUp(endedMention(last.job, ownerId, url))
        .catch((error) =>
          this.#log('warn', 'follow-up failed', { jobId: first.id, error: String(error) }),
        );
    }
    this.#forget(context.interactionId, first.id);
    this.#log('info', 'job finished', { jobId: first.id, status: last.job.status });
  }
}

/**
 * PixazoClient: the one way the rest of zimage talks to Pixazo. It validates before sending,
 * sends a generate POST at most once unless the POST provably never arrived (or was refused
 * with 429), polls on a schedule shaped by the model's expected duration, and turns every
 * outcome into a typed result or a typed PixazoError.
 */
import {
  expectedDurationMs,
  type GenerateInput,
  type GenerateParams,
  MODELS,
  type ModelKey,
  PixazoError,
  toRequestBody,
  ValidationError,
  validateGenerateInput,
} from '@zimage/pixazo-spec';
import packageJson from '../package.json' with { type: 'json' };
import { type CostEstimate, costOfParams } from './cost.ts';
import {
  DEFAULT_DOWNLOAD_TIMEOUT_MS,
  DEFAULT_MAX_DOWNLOAD_BYTES,
  type DownloadedImage,
  downloadImage,
} from './download.ts';
import {
  DownloadError,
  JobFailedError,
  NetworkError,
  PixazoHttpError,
  RateLimitedError,
  SubmissionUncertainError,
  TimeoutError,
} from './errors.ts';
import {
  errorFromAnswer,
  exchange,
  type FetchFn,
  type HttpContext,
  type PixazoLogger,
} from './http.ts';
import {
  DEFAULT_POLL_SCHEDULE,
  expectedDurationOf,
  type PollSchedule,
  pollDelayMs,
} from './poll-schedule.ts';
import {
  DEFAULT_RETRY_POLICY,
  type RetryContext,
  type RetryPolicy,
  retrying,
  type SleepFn,
  sleep,
} from './retry.ts';
import { throwIfAborted, withDeadline } from './signal.ts';
import {
  type CompletedStatus,
  type JobStatus,
  type PixazoStatus,
  parseStatusBody,
  parseSubmitBody,
  requestIdOf,
} from './status.ts';

export const DEFAULT_BASE_URL = 'https://gateway.pixazo.ai';
export const DEFAULT_USER_AGENT = `zimage-core/${packageJson.version}`;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_WAIT_TIMEOUT_MS = 15 * 60_000;

export interface PixazoClientOptions {
  /** Pixazo subscription key (Ocp-Apim-Subscription-Key). Required; never logged or shown. */
  apiKey: string;
  /** Default https://gateway.pixazo.ai; a trailing slash is ignored. */
  baseUrl?: string | undefined;
  fetch?: FetchFn | undefined;
  /** Per HTTP exchange with Pixazo, request to last byte of the answer. Default 30 s. */
  requestTimeoutMs?: number | undefined;
  /** Retries of status GETs and downloads (429, 5xx, network, timeouts) and of the generate POST (429 and refused connections only). */
  retry?: Partial<RetryPolicy> | undefined;
  userAgent?: string | undefined;
  logger?: PixazoLogger | undefined;
  /** Default poll schedule of waitForCompletion and generate. */
  pollSchedule?: Partial<PollSchedule> | undefined;
  /** Default deadline of waitForCompletion and generate. Default 15 min. */
  waitTimeoutMs?: number | undefined;
  /** Largest media file accepted. Default 50 MiB. */
  maxDownloadBytes?: number | undefined;
  /** Per media download. Default 120 s. */
  downloadTimeoutMs?: number | undefined;
  /** Generate paths per model, relative to baseUrl, when they differ from the model table's. */
  modelPaths?: Partial<Record<ModelKey, string>> | undefined;
  /** Source of jitter, in [0, 1). Default Math.random. */
  random?: (() => number) | undefined;
  /** Every wait of the client goes through it; it must reject when its signal aborts. */
  sleep?: SleepFn | undefined;
}

export interface SubmitOptions {
  /** Sent as X-Webhook-URL: Pixazo POSTs the status body there when the job ends. */
  webhookUrl?: string | undefined;
  signal?: AbortSignal | undefined;
  /** Each POST attempt's timeout; default the client's requestTimeoutMs. */
  timeoutMs?: number | undefined;
}

/** An accepted generate request. */
export interface Submission {
  requestId: string;
  /** Pixazo's polling URL, or the one derived from baseUrl when Pixazo sent none. */
  pollingUrl: string;
  model: ModelKey;
  params: GenerateParams;
  cost: CostEstimate;
  /** From the model table; what the poll schedule starts from. */
  expectedDurationMs: number;
}

export interface StatusOptions {
  signal?: AbortSignal | undefined;
}

export interface WaitOptions {
  signal?: AbortSignal | undefined;
  /** Deadline for the whole wait; TimeoutError past it. Default: the client's waitTimeoutMs. */
  timeoutMs?: number | undefined;
  /** Called with the first status seen and then whenever the status value changes. */
  onStatus?: ((status: PixazoStatus) => void) | undefined;
  /** A status the caller already knows (e.g. 'QUEUED' after submit): onStatus skips it. */
  knownStatus?: JobStatus | undefined;
  /** The job's parameters, for its expected duration; else the request id's model defaults. */
  params?: GenerateParams | undefined;
  /** Overrides the expected duration the schedule starts from. */
  expectedDurationMs?: number | undefined;
  pollSchedule?: Partial<PollSchedule> | undefined;
}

export interface GenerateOptions
  extends Pick<WaitOptions, 'signal' | 'onStatus' | 'pollSchedule'>,
    Pick<SubmitOptions, 'webhookUrl'> {
  /** Deadline for submit + wait + downloads. Default: the client's waitTimeoutMs. */
  timeoutMs?: number | undefined;
  /** Download every media URL. Default false. */
  download?: boolean | undefined;
  /** Called once Pixazo has accepted the job (status QUEUED). */
  onSubmitted?: ((submission: Submission) => void) | undefined;
}

export interface GenerateResult {
  submission: Submission;
  status: CompletedStatus;
  /** One per media URL, in order; null unless `download` was set. */
  images: DownloadedImage[] | null;
}

export interface ClientDownloadOptions {
  signal?: AbortSignal | undefined;
  /** Attached to errors. */
  requestId?: string | undefined;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(value > 0)) {
    throw new ValidationError([{ field: name, message: `${name} must be a positive number` }]);
  }
  return value;
}

function checkApiKey(apiKey: unknown): string {
  const key = typeof apiKey === 'string' ? apiKey.trim() : '';
  if (!key) {
    throw new ValidationError([
      { field: 'apiKey', message: 'apiKey is required: a non-empty Pixazo subscription key' },
    ]);
  }
  // fetch would reject such a header with a message that quotes it.
  if (!/^[\x21-\x7e]+$/.test(key)) {
    throw new ValidationError([
      { field: 'apiKey', message: 'apiKey contains characters not allowed in an HTTP header' },
    ]);
  }
  return key;
}

function checkHttpUrl(field: string, value: string): URL {
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new ValidationError([{ field, message: `${field} must be an absolute http(s) URL` }]);
  }
  return url;
}

function checkRequestId(requestId: unknown): string {
  if (typeof requestId !== 'string' || !requestId.trim() || requestId.length > 512) {
    throw new ValidationError([
      { field: 'requestId', message: 'requestId must be a non-empty Pixazo request id' },
    ]);
  }
  return requestId;
}

/** Status GETs and downloads are idempotent, so any transient failure may be retried. */
function isTransient(error: unknown): boolean {
  if (error instanceof RateLimitedError) return true;
  if (error instanceof PixazoHttpError) return error.status >= 500;
  if (error instanceof DownloadError) return error.transient;
  return error instanceof NetworkError || error instanceof TimeoutError;
}

/** A generate POST may only be re-sent when it provably did not arrive, or was refused with 429. */
function isSafeToResend(error: unknown): boolean {
  return (
    error instanceof RateLimitedError || (error instanceof NetworkError && error.connectFailed)
  );
}

export class PixazoClient {
  readonly #apiKey: string;
  readonly baseUrl: string;
  readonly #http: HttpContext;
  readonly #userAgent: string;
  readonly #retry: RetryPolicy;
  readonly #pollSchedule: PollSchedule;
  readonly #waitTimeoutMs: number;
  readonly #maxDownloadBytes: number;
  readonly #downloadTimeoutMs: number;
  readonly #modelPaths: Record<ModelKey, string>;
  readonly #random: () => number;
  readonly #sleep: SleepFn;
  readonly #logger: PixazoLogger | undefined;

  constructor(options: PixazoClientOptions) {
    this.#apiKey = checkApiKey(options?.apiKey);
    const base = checkHttpUrl('baseUrl', options.baseUrl ?? DEFAULT_BASE_URL);
    this.baseUrl = `${base.origin}${base.pathname}`.replace(/\/+$/, '');
    this.#logger = options.logger;
    this.#http = {
      fetch: options.fetch ?? globalThis.fetch,
      timeoutMs: positive('requestTimeoutMs', options.requestTimeoutMs, DEFAULT_REQUEST_TIMEOUT_MS),
      logger: options.logger,
      redact: (text) => text.split(this.#apiKey).join('[redacted]'),
    };
    this.#userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
    this.#retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.#pollSchedule = { ...DEFAULT_POLL_SCHEDULE, ...options.pollSchedule };
    this.#waitTimeoutMs = positive('waitTimeoutMs', options.waitTimeoutMs, DEFAULT_WAIT_TIMEOUT_MS);
    this.#maxDownloadBytes = positive(
      'maxDownloadBytes',
      options.maxDownloadBytes,
      DEFAULT_MAX_DOWNLOAD_BYTES,
    );
    this.#downloadTimeoutMs = positive(
      'downloadTimeoutMs',
      options.downloadTimeoutMs,
      DEFAULT_DOWNLOAD_TIMEOUT_MS,
    );
    this.#modelPaths = {
      turbo: options.modelPaths?.turbo ?? MODELS.turbo.requestPath,
      base: options.modelPaths?.base ?? MODELS.base.requestPath,
    };
    this.#random = options.random ?? Math.random;
    this.#sleep = options.sleep ?? sleep;
  }

  /** Where a request id's status is read. */
  statusUrl(requestId: string): string {
    return `${this.baseUrl}/v2/requests/status/${encodeURIComponent(checkRequestId(requestId))}`;
  }

  /**
   * Validates `input` and sends the generate POST. Re-sent only after a refused connection or a
   * 429 (within the retry policy); any other failure once it was sent is a
   * SubmissionUncertainError, because Pixazo may have accepted (and charged for) the job.
   */
  async submit(input: GenerateInput, options: SubmitOptions = {}): Promise<Submission> {
    const params = validateGenerateInput(input);
    const webhookUrl =
      options.webhookUrl === undefined
        ? undefined
        : checkHttpUrl('webhookUrl', options.webhookUrl).href;
    const http = {
      ...this.#http,
      timeoutMs: positive('timeoutMs', options.timeoutMs, this.#http.timeoutMs),
    };
    throwIfAborted(options.signal);
    const url = `${this.baseUrl}${this.#modelPaths[params.model]}`;
    const request = {
      method: 'POST' as const,
      url,
      headers: {
        ...this.#headers(),
        'Content-Type': 'application/json',
        ...(webhookUrl ? { 'X-Webhook-URL': webhookUrl } : {}),
      },
      body: JSON.stringify(toRequestBody(params)),
      signal: options.signal,
    };
    const { requestId, pollingUrl } = await retrying(
      async () => {
        let answer: Awaited<ReturnType<typeof exchange>>;
        try {
          answer = await exchange(http, request);
        } catch (error) {
          if (isSafeToResend(error)) throw error;
          throw this.#uncertain(error);
        }
        if (answer.status === 429) throw errorFromAnswer(answer, http);
        if (answer.status >= 500) {
          throw this.#uncertain(errorFromAnswer(answer, http, requestIdOf(answer.body)));
        }
        if (answer.status < 200 || answer.status >= 300) throw errorFromAnswer(answer, http);
        try {
          return parseSubmitBody(answer.body);
        } catch (error) {
          throw this.#uncertain(error);
        }
      },
      isSafeToResend,
      this.#retryContext(options.signal, { model: params.model }),
    );
    this.#logger?.debug?.({ requestId, model: params.model }, 'pixazo job submitted');
    return {
      requestId,
      pollingUrl: pollingUrl ?? this.statusUrl(requestId),
      model: params.model,
      params,
      cost: costOfParams(params),
      expectedDurationMs: expectedDurationMs(MODELS[params.model], params),
    };
  }

  /** One status read, retried on 429 (after Retry-After), 5xx, network errors and timeouts. */
  async getStatus(requestId: string, options: StatusOptions = {}): Promise<PixazoStatus> {
    const url = this.statusUrl(requestId);
    return retrying(
      async () => {
        const answer = await exchange(this.#http, {
          method: 'GET',
          url,
          headers: this.#headers(),
          signal: options.signal,
          requestId,
        });
        if (answer.status < 200 || answer.status >= 300) {
          throw errorFromAnswer(answer, this.#http, requestId);
        }
        const status = parseStatusBody(answer.body);
        if (status.requestId !== requestId) {
          throw new PixazoError(
            'INVALID_RESPONSE',
            `Pixazo answered the status of ${status.requestId} when asked for ${requestId}`,
            { requestId },
          );
        }
        return status;
      },
      isTransient,
      this.#retryContext(options.signal, { requestId }),
    );
  }

  /**
   * Polls until the job ends: resolves with the COMPLETED status, rejects with JobFailedError
   * (FAILED/ERROR), TimeoutError (deadline), AbortError, or the error a status read ended with.
   * Works for any request id, so a restarted process can resume waiting on an earlier job.
   */
  async waitForCompletion(requestId: string, options: WaitOptions = {}): Promise<CompletedStatus> {
    checkRequestId(requestId);
    const progress: WaitProgress = { requestId, lastStatus: options.knownStatus };
    const timeoutMs = options.timeoutMs ?? this.#waitTimeoutMs;
    const deadline = withDeadline(options.signal, timeoutMs, () =>
      deadlineError(timeoutMs, progress),
    );
    try {
      return await this.#pollUntilDone(requestId, options, deadline.signal, progress);
    } finally {
      deadline.dispose();
    }
  }

  /** submit + waitForCompletion (+ downloads), under one deadline. */
  async generate(input: GenerateInput, options: GenerateOptions = {}): Promise<GenerateResult> {
    const progress: WaitProgress = { requestId: undefined, lastStatus: undefined };
    const timeoutMs = options.timeoutMs ?? this.#waitTimeoutMs;
    const deadline = withDeadline(options.signal, timeoutMs, () =>
      deadlineError(timeoutMs, progress),
    );
    try {
      const submission = await this.submit(input, {
        webhookUrl: options.webhookUrl,
        signal: deadline.signal,
      });
      progress.requestId = submission.requestId;
      progress.lastStatus = 'QUEUED';
      options.onSubmitted?.(submission);
      const status = await this.#pollUntilDone(
        submission.requestId,
        {
          onStatus: options.onStatus,
          pollSchedule: options.pollSchedule,
          knownStatus: 'QUEUED',
          params: submission.params,
        },
        deadline.signal,
        progress,
      );
      const images = options.download
        ? await this.#downloadAll(status.mediaUrls, deadline.signal, submission.requestId)
        : null;
      return { submission, status, images };
    } finally {
      deadline.dispose();
    }
  }

  /** Downloads one media URL (without the API key), retrying transient failures. */
  async download(url: string, options: ClientDownloadOptions = {}): Promise<DownloadedImage> {
    return retrying(
      () =>
        downloadImage(url, {
          fetch: this.#http.fetch,
          maxBytes: this.#maxDownloadBytes,
          timeoutMs: this.#downloadTimeoutMs,
          signal: options.signal,
          requestId: options.requestId,
        }),
      isTransient,
      this.#retryContext(options.signal, { requestId: options.requestId }),
    );
  }

  #headers(): Record<string, string> {
    return {
      'Ocp-Apim-Subscription-Key': this.#apiKey,
      'Cache-Control': 'no-cache',
      'User-Agent': this.#userAgent,
    };
  }

  #retryContext(signal: AbortSignal | undefined, fields: Record<string, unknown>): RetryContext {
    return {
      policy: this.#retry,
      random: this.#random,
      sleep: this.#sleep,
      signal,
      onRetry: ({ attempt, delayMs, error }) => {
        const code = error instanceof PixazoError ? error.code : 'UNKNOWN';
        this.#logger?.warn?.({ ...fields, attempt, delayMs, code }, 'pixazo retry');
      },
    };
  }

  #uncertain(cause: unknown): SubmissionUncertainError {
    const reason = cause instanceof Error ? cause.message : String(cause);
    return new SubmissionUncertainError(
      `The generate request was sent but its outcome is unknown (${reason}); Pixazo may have ` +
        'accepted it and may charge for it, so it was not sent again',
      {
        cause,
        status: cause instanceof PixazoError ? cause.status : undefined,
        requestId: cause instanceof PixazoError ? cause.requestId : undefined,
      },
    );
  }

  async #pollUntilDone(
    requestId: string,
    options: WaitOptions,
    signal: AbortSignal,
    progress: WaitProgress,
  ): Promise<CompletedStatus> {
    const schedule = { ...this.#pollSchedule, ...options.pollSchedule };
    const expectedMs =
      options.expectedDurationMs ??
      expectedDurationOf(requestId, options.params) ??
      schedule.maxIntervalMs;
    let known = options.knownStatus;
    for (let poll = 0; ; poll++) {
      await this.#sleep(pollDelayMs(poll, expectedMs, schedule), signal);
      const status = await this.getStatus(requestId, { signal });
      if (status.status !== known) {
        known = status.status;
        progress.lastStatus = known;
        this.#logger?.debug?.({ requestId, status: known }, 'pixazo job status');
        options.onStatus?.(status);
      }
      if (status.status === 'COMPLETED') return status as CompletedStatus;
      if (status.status === 'FAILED' || status.status === 'ERROR') {
        throw new JobFailedError(status.status, status.error, { requestId });
      }
    }
  }

  async #downloadAll(
    urls: readonly string[],
    signal: AbortSignal,
    requestId: string,
  ): Promise<DownloadedImage[]> {
    // The first failure cancels the other downloads.
    const failed = new AbortController();
    const shared = AbortSignal.any([signal, failed.signal]);
    return Promise.all(
      urls.map((url) =>
        this.download(url, { signal: shared, requestId }).catch((error: unknown) => {
          failed.abort(error);
          throw error;
        }),
      ),
    );
  }
}

interface WaitProgress {
  requestId: string | undefined;
  lastStatus: JobStatus | undefined;
}

function deadlineError(timeoutMs: number, progress: WaitProgress): TimeoutError {
  const job = progress.requestId ? `Pixazo job ${progress.requestId}` : 'The Pixazo job';
  return new TimeoutError(
    `${job} did not finish within ${timeoutMs} ms (last status: ${progress.lastStatus ?? 'unknown'})`,
    { requestId: progress.requestId },
  );
}

/**
 * Typed errors for every documented Pixazo outcome, on @zimage/pixazo-spec's `PixazoError`
 * (with its code, HTTP status and request id; `ValidationError` lives there too, as validation
 * does). Messages never contain the API key: no header is ever quoted.
 */
import { PixazoError, type PixazoErrorCode, type PixazoErrorOptions } from '@zimage/pixazo-spec';

/** Pixazo answered with an error status (400, 401, 402, 403, 404, 5xx). */
export class PixazoHttpError extends PixazoError {
  override name = 'PixazoHttpError';
  declare readonly status: number;
  /** Pixazo's `error` text (or APIM's), when the body had one. */
  readonly pixazoError: string | undefined;
  /** The field Pixazo named in a 400 validation answer, when it named one. */
  readonly field: string | undefined;

  constructor(
    code: PixazoErrorCode,
    message: string,
    options: PixazoErrorOptions & { status: number; pixazoError?: string; field?: string },
  ) {
    super(code, message, options);
    this.pixazoError = options.pixazoError;
    this.field = options.field;
  }
}

export class RateLimitedError extends PixazoHttpError {
  override name = 'RateLimitedError';
  /** From `Retry-After`, when Pixazo sent it. */
  readonly retryAfterMs: number | undefined;

  constructor(
    message: string,
    options: PixazoErrorOptions & { retryAfterMs?: number | undefined; pixazoError?: string },
  ) {
    super('RATE_LIMITED', message, { ...options, status: 429 });
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * No HTTP answer arrived (refused, reset, DNS, TLS, a redirect where none is allowed).
 * `connectFailed` is true only when the connection itself was never made (refused, DNS), so not
 * a byte of the request left this machine: the one case where re-sending a POST is safe.
 */
export class NetworkError extends PixazoError {
  override name = 'NetworkError';
  readonly connectFailed: boolean;
  /** The system error code(s) found in fetch's `error.cause`, e.g. `ECONNREFUSED`. */
  readonly causeCodes: readonly string[];

  constructor(
    message: string,
    options: PixazoErrorOptions & { connectFailed: boolean; causeCodes: readonly string[] },
  ) {
    super('NETWORK_ERROR', message, options);
    this.connectFailed = options.connectFailed;
    this.causeCodes = options.causeCodes;
  }
}

/**
 * The generate POST left this machine and then something went wrong (timeout, 5xx, reset).
 * Pixazo may have accepted it and may charge for it, so it must not be sent again blindly.
 */
export class SubmissionUncertainError extends PixazoError {
  override name = 'SubmissionUncertainError';
  constructor(message: string, options: PixazoErrorOptions = {}) {
    super('SUBMISSION_UNCERTAIN', message, options);
  }
}

export class TimeoutError extends PixazoError {
  override name = 'TimeoutError';
  constructor(message: string, options: PixazoErrorOptions = {}) {
    super('TIMEOUT', message, options);
  }
}

export class AbortError extends PixazoError {
  override name = 'AbortError';
  constructor(message = 'The operation was aborted', options: PixazoErrorOptions = {}) {
    super('ABORTED', message, options);
  }
}

/** A job reached FAILED or ERROR; `pixazoError` is Pixazo's own error text. */
export class JobFailedError extends PixazoError {
  override name = 'JobFailedError';
  readonly jobStatus: 'FAILED' | 'ERROR';
  readonly pixazoError: string | null;

  constructor(
    jobStatus: 'FAILED' | 'ERROR',
    pixazoError: string | null,
    options: PixazoErrorOptions & { requestId: string },
  ) {
    super(
      jobStatus === 'FAILED' ? 'JOB_FAILED' : 'JOB_ERROR',
      `Pixazo job ${options.requestId} ended ${jobStatus}${pixazoError ? `: ${pixazoError}` : ''}`,
      options,
    );
    this.jobStatus = jobStatus;
    this.pixazoError = pixazoError;
  }
}

/** A media URL could not be fetched, was too large, or was not a PNG/JPEG/WebP image. */
export class DownloadError extends PixazoError {
  override name = 'DownloadError';
  readonly url: string;
  /** A network failure, timeout, 429 or 5xx: trying again may work. */
  readonly transient: boolean;

  constructor(message: string, options: PixazoErrorOptions & { url: string; transient: boolean }) {
    super('DOWNLOAD_ERROR', message, options);
    this.url = options.url;
    this.transient = options.transient;
  }
}

export function isPixazoError(error: unknown): error is PixazoError {
  return error instanceof PixazoError;
}

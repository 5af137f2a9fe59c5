/**
 * Typed errors for every documented Pixazo outcome. Each carries a stable `code`, the HTTP
 * status when there was one, and the request id when one is known, so callers branch on data
 * instead of parsing messages. Messages never contain the API key: no header is ever quoted.
 */

export type PixazoErrorCode =
  /** Rejected locally, before any request was sent. */
  | 'VALIDATION_ERROR'
  /** 400 from Pixazo (its own validation). */
  | 'BAD_REQUEST'
  /** 400 "Model not found": unknown or disabled model path. */
  | 'MODEL_NOT_FOUND'
  | 'UNAUTHORIZED'
  | 'INSUFFICIENT_BALANCE'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'RATE_LIMITED'
  | 'SERVER_ERROR'
  /** No HTTP answer at all (refused, reset, DNS). */
  | 'NETWORK_ERROR'
  /** The generate POST was sent but its outcome is unknown: it may have been accepted. */
  | 'SUBMISSION_UNCERTAIN'
  | 'TIMEOUT'
  | 'ABORTED'
  /** The job ended FAILED (Pixazo charges for it). */
  | 'JOB_FAILED'
  /** The job ended ERROR (a system error; not charged). */
  | 'JOB_ERROR'
  | 'DOWNLOAD_ERROR'
  /** Pixazo answered with a body this client cannot read. */
  | 'INVALID_RESPONSE';

export interface PixazoErrorOptions {
  status?: number | undefined;
  requestId?: string | undefined;
  cause?: unknown;
}

export class PixazoError extends Error {
  override name = 'PixazoError';
  readonly code: PixazoErrorCode;
  readonly status: number | undefined;
  readonly requestId: string | undefined;

  constructor(code: PixazoErrorCode, message: string, options: PixazoErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.requestId = options.requestId;
  }
}

export interface ValidationIssue {
  field: string;
  message: string;
}

export class ValidationError extends PixazoError {
  override name = 'ValidationError';
  /** The first offending field, as the caller named it. */
  readonly field: string;
  readonly issues: readonly ValidationIssue[];

  constructor(issues: readonly [ValidationIssue, ...ValidationIssue[]]) {
    super('VALIDATION_ERROR', issues[0].message);
    this.field = issues[0].field;
    this.issues = issues;
  }
}

/** Pixazo answered with an error status (400, 401, 402, 403, 404, 5xx). */
export class PixazoHttpError extends PixazoError {
  override name = 'PixazoHttpError';
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

export function isPixazoError(error: unknown): error is PixazoError {
  return error instanceof PixazoError;
}

/**
 * The base of every typed Pixazo error, and the one validation raises. Each error carries a
 * stable `code`, the HTTP status when there was one, and the request id when one is known, so
 * callers branch on data instead of parsing messages. @zimage/core builds the client's errors
 * (HTTP, network, timeouts, jobs, downloads) on `PixazoError`.
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

/**
 * The values of the gateway's public contract that its clients need as code, defined once:
 * the gateway builds its errors, close codes and `JobStatus` enum from them, and the dashboard,
 * the bot and @zimage/client read them from here instead of keeping copies. Everything else a
 * client needs (models, ranges, limits) comes through the GraphQL schema itself.
 *
 * No dependencies and no Node-only imports: this runs in browsers too.
 */

/** Every `extensions.code` a gateway error may carry (PRODUCT.md); anything else is masked. */
export const ERROR_CODES = [
  'BAD_USER_INPUT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'RATE_LIMITED',
  'BUDGET_EXCEEDED',
  'INSUFFICIENT_BALANCE',
  'UPSTREAM_UNAVAILABLE',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

const ERROR_CODE_SET: ReadonlySet<string> = new Set(ERROR_CODES);

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && ERROR_CODE_SET.has(value);
}

/**
 * How the gateway closes a graphql-ws socket whose API key it refuses, and the error code each
 * close means: 4401 no key or an unknown one, 4403 a revoked key or one that may not read.
 * Retrying with the same key cannot help after either.
 */
export const CLOSE_CODES = {
  UNAUTHENTICATED: 4401,
  FORBIDDEN: 4403,
} as const satisfies Partial<Record<ErrorCode, number>>;

/** The error code a WebSocket close code stands for; undefined for any other close. */
export function errorCodeOfClose(closeCode: number): ErrorCode | undefined {
  for (const [code, close] of Object.entries(CLOSE_CODES)) {
    if (close === closeCode) return code as ErrorCode;
  }
  return undefined;
}

/** The contract's `JobStatus` values, in lifecycle order. */
export const JOB_STATUSES = [
  'QUEUED',
  'PROCESSING',
  'COMPLETED',
  'FAILED',
  'ERROR',
  'CANCELLED',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** A job in one of these never changes again; `jobUpdated` completes after one. */
export const TERMINAL_JOB_STATUSES: ReadonlySet<JobStatus> = new Set([
  'COMPLETED',
  'FAILED',
  'ERROR',
  'CANCELLED',
]);

export function isTerminalStatus(status: JobStatus): boolean {
  return TERMINAL_JOB_STATUSES.has(status);
}

/** An API key's scopes (`CreateApiKeyInput.scopes`: "Any of generate, read, admin, act-as"). */
export const SCOPES = ['generate', 'read', 'admin', 'act-as'] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * Every failure the client reports is a ZimageError. Its code is one of the contract's
 * (`extensions.code` of the gateway's GraphQL errors, or the close code of a refused socket)
 * or one of the client's own, for answers that never came or were not what the contract
 * promises.
 */
import { type ErrorCode, errorCodeOfClose, isErrorCode } from '@zimage/contract';

export const CLIENT_ERROR_CODES = [
  /** No answer: the gateway could not be reached, or did not answer in time (after retries). */
  'NETWORK_ERROR',
  /** An answer outside the contract: not GraphQL, an HTTP error, or an error the gateway masked. */
  'UNEXPECTED_RESPONSE',
  /** `waitFor` ran out of `timeoutMs` before the job ended. */
  'TIMEOUT',
] as const;
export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number];

export type ZimageErrorCode = ErrorCode | ClientErrorCode;

export class ZimageError extends Error {
  override name = 'ZimageError';
  readonly code: ZimageErrorCode;
  /** BAD_USER_INPUT: the input field at fault, e.g. `prompt` or `numInferenceSteps`. */
  readonly field: string | undefined;
  /** RATE_LIMITED (and some refusals of the upstream): when trying again may succeed. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ZimageErrorCode,
    message: string,
    details: { field?: string; retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.field = details.field;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }
}

/** A GraphQL error as it arrives over HTTP or graphql-ws. */
export interface GraphQLErrorBody {
  message?: unknown;
  extensions?: { code?: unknown; field?: unknown; retryAfterSeconds?: unknown } | null;
}

export function errorOfGraphQL(error: GraphQLErrorBody | undefined): ZimageError {
  const extensions = error?.extensions ?? {};
  const message = typeof error?.message === 'string' ? error.message : 'The gateway refused';
  const { field, retryAfterSeconds } = extensions;
  return new ZimageError(
    isErrorCode(extensions.code) ? extensions.code : 'UNEXPECTED_RESPONSE',
    message,
    {
      ...(typeof field === 'string' ? { field } : {}),
      ...(typeof retryAfterSeconds === 'number' ? { retryAfterSeconds } : {}),
    },
  );
}

/** The error a refused WebSocket stands for (4401, 4403), or undefined for any other close. */
export function errorOfClose(close: unknown): ZimageError | undefined {
  const { code, reason } = (close ?? {}) as { code?: unknown; reason?: unknown };
  const errorCode = typeof code === 'number' ? errorCodeOfClose(code) : undefined;
  if (errorCode === undefined) return undefined;
  const why = typeof reason === 'string' && reason ? reason : `closed with ${code}`;
  return new ZimageError(errorCode, `The gateway refused the connection: ${why}`);
}

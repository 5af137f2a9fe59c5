/**
 * Errors the gateway shows its callers. Each maps to a GraphQL error whose
 * `extensions.code` is one of the contract's codes (@zimage/contract); anything else is masked.
 */
import type { ErrorCode } from '@zimage/contract';
import { GraphQLError } from 'graphql';

export class GatewayError extends GraphQLError {
  constructor(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(message, { extensions: { ...extensions, code } });
    this.name = 'GatewayError';
  }

  get code(): ErrorCode {
    return this.extensions.code as ErrorCode;
  }
}

export const badUserInput = (field: string, message: string) =>
  new GatewayError('BAD_USER_INPUT', message, { field });

export const rateLimited = (retryAfterSeconds: number, message = 'Too many requests') =>
  new GatewayError('RATE_LIMITED', `${message}; retry in ${retryAfterSeconds} s`, {
    retryAfterSeconds,
  });

/** cancelJob on a job already sent to Pixazo, which has no cancel: it is paid, so it finishes. */
export const alreadySent = (jobId: string) =>
  badUserInput(
    'id',
    `Job ${jobId} was already sent to Pixazo, which has no cancel: it is paid, so it will finish and its images will be kept. Only a job still waiting in the gateway's queue (queuePosition set) can be cancelled, for free.`,
  );

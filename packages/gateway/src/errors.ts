/**
 * Errors the gateway shows its callers. Each maps to a GraphQL error whose
 * `extensions.code` is one of the contract's codes; anything else is masked.
 */
import { GraphQLError } from 'graphql';

export const GATEWAY_ERROR_CODES = [
  'BAD_USER_INPUT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'RATE_LIMITED',
  'BUDGET_EXCEEDED',
  'INSUFFICIENT_BALANCE',
  'UPSTREAM_UNAVAILABLE',
] as const;
export type GatewayErrorCode = (typeof GATEWAY_ERROR_CODES)[number];

export class GatewayError extends GraphQLError {
  constructor(code: GatewayErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(message, { extensions: { ...extensions, code } });
    this.name = 'GatewayError';
  }

  get code(): GatewayErrorCode {
    return this.extensions.code as GatewayErrorCode;
  }
}

export const badUserInput = (field: string, message: string) =>
  new GatewayError('BAD_USER_INPUT', message, { field });

export const rateLimited = (retryAfterSeconds: number, message = 'Too many requests') =>
  new GatewayError('RATE_LIMITED', `${message}; retry in ${retryAfterSeconds} s`, {
    retryAfterSeconds,
  });

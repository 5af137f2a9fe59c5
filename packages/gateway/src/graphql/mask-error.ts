/**
 * What callers see of an error. Contract errors (GatewayError, whose extensions carry a code)
 * pass as they are; request errors get BAD_USER_INPUT (or FORBIDDEN for a refused CSRF
 * check); Pixazo's typed errors map to their contract codes; anything else is masked as
 * "Unexpected error." and logged whole by Yoga, so no internal detail reaches a caller.
 */
import { isPixazoError, type PixazoError, ValidationError } from '@zimage/core';
import { GraphQLError } from 'graphql';
import { maskError as yogaMaskError } from 'graphql-yoga';
import { badUserInput, GatewayError } from '../errors.ts';
import { asBadUserInput } from './input-errors.ts';

/** The error a resolver threw, under graphql-js's located wrappers. */
function rootCause(error: unknown): unknown {
  let current = error;
  while (current instanceof GraphQLError && current.originalError) current = current.originalError;
  return current;
}

function fromPixazo(error: PixazoError): GatewayError | null {
  if (error instanceof ValidationError) return badUserInput(error.field, error.message);
  switch (error.code) {
    case 'INSUFFICIENT_BALANCE':
      return new GatewayError('INSUFFICIENT_BALANCE', "The gateway's Pixazo balance is too low");
    case 'RATE_LIMITED':
    case 'SERVER_ERROR':
    case 'NETWORK_ERROR':
    case 'TIMEOUT':
      return new GatewayError('UPSTREAM_UNAVAILABLE', 'Pixazo is unavailable; try again shortly');
    default:
      return null;
  }
}

/** Keeps the location and path of the error the caller's request produced. */
function relocated(error: unknown, replacement: GraphQLError): GraphQLError {
  if (!(error instanceof GraphQLError)) return replacement;
  return new GraphQLError(replacement.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    extensions: replacement.extensions,
  });
}

export function maskError(error: unknown, message: string, isDev?: boolean): Error {
  const cause = rootCause(error);
  if (cause instanceof GraphQLError) {
    if (cause instanceof GatewayError) return error as Error;
    // Yoga's own refusals (CSRF, body size, method) carry an HTTP status.
    const httpStatus = (cause.extensions.http as { status?: number } | undefined)?.status;
    if (httpStatus === 403) (cause.extensions as Record<string, unknown>).code = 'FORBIDDEN';
    return asBadUserInput(error instanceof GraphQLError ? error : cause);
  }
  if (isPixazoError(cause)) {
    const mapped = fromPixazo(cause);
    if (mapped) return relocated(error, mapped);
  }
  return yogaMaskError(error, message, isDev);
}

/** What the gateway's errors mean to a person. The codes are the contract's `extensions.code`. */
import { type ErrorCode, isErrorCode } from '@zimage/contract';
import type { CombinedError } from 'urql';

const extensionsOf = (error: CombinedError) => error.graphQLErrors[0]?.extensions ?? {};

export function errorCode(error: CombinedError): ErrorCode | undefined {
  const code = extensionsOf(error).code;
  return isErrorCode(code) ? code : undefined;
}

/** The input field a BAD_USER_INPUT error names (`input.numImages` → `numImages`). */
export function errorField(error: CombinedError): string | undefined {
  const field = extensionsOf(error).field;
  return typeof field === 'string' ? field.split('.').at(-1) : undefined;
}

/** The gateway's own message, written for people, as a sentence. */
function serverMessage(error: CombinedError): string {
  const message = error.graphQLErrors[0]?.message.trim() ?? '';
  return message && !/[.!?]$/.test(message) ? `${message}.` : message;
}

export function describeError(error: CombinedError): string {
  if (error.networkError) {
    return 'Cannot reach the gateway. Check your connection; the dashboard retries on its own.';
  }
  switch (errorCode(error)) {
    case 'UNAUTHENTICATED':
      return 'This API key was not accepted. Check it, or ask for a new one.';
    case 'INSUFFICIENT_BALANCE':
      return 'The Pixazo account behind this gateway is out of balance. Ask its operator to top it up.';
    case 'UPSTREAM_UNAVAILABLE':
      return 'Pixazo is not answering right now. Try again in a minute.';
    case 'NOT_FOUND':
      return 'That job does not exist, or belongs to another key.';
    case 'RATE_LIMITED':
      return serverMessage(error) || 'Too many requests. Try again in a moment.';
    default:
      // BUDGET_EXCEEDED, FORBIDDEN, BAD_USER_INPUT: the gateway says exactly what and why.
      return serverMessage(error) || 'Something went wrong. Try again.';
  }
}

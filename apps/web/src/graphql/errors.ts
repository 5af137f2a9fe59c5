/** What the gateway's errors mean to a person. The codes are the contract's `extensions.code`. */
import type { CombinedError } from 'urql';

export type GatewayErrorCode =
  | 'BAD_USER_INPUT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'RATE_LIMITED'
  | 'BUDGET_EXCEEDED'
  | 'INSUFFICIENT_BALANCE'
  | 'UPSTREAM_UNAVAILABLE';

const extensionsOf = (error: CombinedError) => error.graphQLErrors[0]?.extensions ?? {};

export function errorCode(error: CombinedError): GatewayErrorCode | undefined {
  const code = extensionsOf(error).code;
  return typeof code === 'string' ? (code as GatewayErrorCode) : undefined;
}

/** The input field a BAD_USER_INPUT error names (`input.numImages` → `numImages`). */
export function errorField(error: CombinedError): string | undefined {
  const field = extensionsOf(error).field;
  return typeof field === 'string' ? field.split('.').at(-1) : undefined;
}

const serverMessage = (error: CombinedError) => error.graphQLErrors[0]?.message ?? '';

export function describeError(error: CombinedError): string {
  if (error.networkError) {
    return 'Cannot reach the gateway. Check your connection; the dashboard retries on its own.';
  }
  switch (errorCode(error)) {
    case 'UNAUTHENTICATED':
      return 'This API key was not accepted. Check it, or ask for a new one.';
    case 'FORBIDDEN':
      return `This API key may not do that: ${serverMessage(error)}`;
    case 'BUDGET_EXCEEDED':
      return `Today's budget for this key is used up. ${serverMessage(error)}`;
    case 'RATE_LIMITED': {
      const seconds = extensionsOf(error).retryAfterSeconds;
      return typeof seconds === 'number'
        ? `Too many requests. Try again in ${seconds} s.`
        : 'Too many requests. Try again in a moment.';
    }
    case 'INSUFFICIENT_BALANCE':
      return 'The Pixazo account behind this gateway is out of balance. Ask its operator to top it up.';
    case 'UPSTREAM_UNAVAILABLE':
      return 'Pixazo is not answering right now. Try again in a minute.';
    case 'NOT_FOUND':
      return 'That job does not exist, or belongs to someone else.';
    case 'BAD_USER_INPUT':
      return serverMessage(error);
    default:
      return serverMessage(error) || 'Something went wrong. Try again.';
  }
}

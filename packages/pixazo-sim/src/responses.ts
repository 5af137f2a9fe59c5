/**
 * The error bodies Pixazo answers with. Gateway-level errors (key, rate, unknown resource) come
 * from Azure API Management in front of Pixazo and have its `{statusCode, message}` shape;
 * the others are Pixazo's own `{error, message}` bodies as the seed documents them.
 */
import { json, type SimResponse } from './http.ts';

export const missingKey = (): SimResponse =>
  json(401, {
    statusCode: 401,
    message:
      'Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.',
  });

export const invalidKey = (): SimResponse =>
  json(401, {
    statusCode: 401,
    message:
      'Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.',
  });

export const rateLimited = (retryAfterSeconds: number): SimResponse =>
  json(
    429,
    {
      statusCode: 429,
      message: `Rate limit is exceeded. Try again in ${retryAfterSeconds} seconds.`,
    },
    { 'retry-after': String(retryAfterSeconds) },
  );

export const resourceNotFound = (): SimResponse =>
  json(404, { statusCode: 404, message: 'Resource not found' });

export const modelNotFound = (modelId: string): SimResponse =>
  json(400, { error: 'Model not found', message: `Model '${modelId}' not found or is disabled` });

export const badRequest = (field: string, message: string): SimResponse =>
  json(400, { error: 'Bad Request', message, field });

export const payloadTooLarge = (limit: number): SimResponse =>
  // The rest of the body is discarded unread: do not keep the connection for another request.
  json(
    413,
    { error: 'Payload Too Large', message: `The request body must be at most ${limit} bytes` },
    { connection: 'close' },
  );

export const insufficientBalance = (): SimResponse =>
  json(402, {
    error: 'Insufficient Balance',
    message: 'Your wallet does not have enough balance.',
  });

export const requestNotFound = (requestId: string): SimResponse =>
  json(404, { error: 'Not Found', message: `Request '${requestId}' not found` });

export const internalError = (message = 'An unexpected error occurred'): SimResponse =>
  json(500, { error: 'Internal Server Error', message });

export const fileNotFound = (): SimResponse =>
  json(404, { error: 'Not Found', message: 'The requested file does not exist' });

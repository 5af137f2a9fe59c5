/**
 * One HTTP exchange with Pixazo, and the mapping of every way it can go wrong to a typed error.
 * Retrying is the caller's decision (retry.ts); this module only reports facts, in particular
 * whether a failed request provably never left this machine (NetworkError.connectFailed).
 */
import { PixazoError, type PixazoErrorCode, WIRE_FIELD_NAMES } from '@zimage/pixazo-spec';
import { concatBytes } from './concat-bytes.ts';
import { NetworkError, PixazoHttpError, RateLimitedError, TimeoutError } from './errors.ts';
import { parseRetryAfterMs } from './retry.ts';
import { abortErrorFrom } from './signal.ts';

export type FetchFn = typeof globalThis.fetch;

/** Structured log hook; a pino logger fits as is. Fields never include headers or the key. */
export interface PixazoLogger {
  debug?(fields: Record<string, unknown>, message: string): void;
  warn?(fields: Record<string, unknown>, message: string): void;
}

export interface HttpContext {
  fetch: FetchFn;
  /** Per exchange: from sending the request to the last byte of the answer. */
  timeoutMs: number;
  logger: PixazoLogger | undefined;
  /** Removes secrets from text that came from the server before it lands in an error message. */
  redact: (text: string) => string;
}

export interface HttpRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: string | undefined;
  signal?: AbortSignal | undefined;
  /** The Pixazo request id this exchange is about, for error reports. */
  requestId?: string | undefined;
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  /** Parsed JSON, or the raw text when the body is not JSON ('' when empty). */
  body: unknown;
}

/** Pixazo's API answers are small; anything bigger is not an answer this client can use. */
const MAX_ANSWER_BYTES = 1024 * 1024;

/**
 * Failures with these codes happen before a connection exists (refused, DNS), so no byte of the
 * request was sent. A connect timeout is the same case: the TCP handshake never completed.
 */
const CONNECT_FAILURE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Every `code` in a fetch error's cause chain (undici nests them, sometimes in an AggregateError). */
function causeCodes(error: unknown): string[] {
  const codes: string[] = [];
  const visit = (e: unknown, depth: number): void => {
    if (depth > 5 || typeof e !== 'object' || e === null) return;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    if (e instanceof AggregateError) for (const inner of e.errors) visit(inner, depth + 1);
    visit((e as { cause?: unknown }).cause, depth + 1);
  };
  visit(error, 0);
  return [...new Set(codes)];
}

/** fetch's own message is "fetch failed"; the reason is at the end of the cause chain. */
function innermostMessage(error: unknown): string {
  let message = 'failed';
  for (let e = error, depth = 0; e instanceof Error && depth < 6; e = e.cause, depth++) {
    message = e.message;
  }
  return message;
}

/**
 * Reads a body, giving up as soon as it passes `maxBytes` (the rest is never downloaded).
 * Returns null when the body was too large.
 */
export async function readBodyCapped(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
): Promise<Uint8Array | null> {
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  return concatBytes(chunks, size);
}

function describeUrl(url: string): string {
  const { origin, pathname } = new URL(url);
  return `${origin}${pathname}`;
}

/**
 * Sends one request and reads the whole answer within `context.timeoutMs`. Resolves with any
 * HTTP status; rejects with AbortError/TimeoutError (the caller's signal), TimeoutError (this
 * exchange's own timeout), or NetworkError.
 */
export async function exchange(context: HttpContext, request: HttpRequest): Promise<HttpAnswer> {
  const { method, url } = request;
  const target = `${method} ${describeUrl(url)}`;
  const timeout = AbortSignal.timeout(context.timeoutMs);
  const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
  const startedAt = performance.now();
  context.logger?.debug?.({ method, url: describeUrl(url) }, 'pixazo request');
  try {
    const response = await context.fetch(url, {
      method,
      headers: request.headers,
      body: request.body ?? null,
      signal,
      // The key travels in a custom header, which fetch would forward to any redirect target.
      redirect: 'error',
    });
    const bytes = await readBodyCapped(response.body, MAX_ANSWER_BYTES);
    if (bytes === null) {
      throw new PixazoError(
        'INVALID_RESPONSE',
        `${target} answered HTTP ${response.status} with a body over ${MAX_ANSWER_BYTES} bytes`,
        { status: response.status },
      );
    }
    const text = new TextDecoder().decode(bytes);
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : text;
    } catch {
      // Not JSON: keep the text; errorFromAnswer quotes it.
    }
    context.logger?.debug?.(
      {
        method,
        url: describeUrl(url),
        status: response.status,
        durationMs: Math.round(performance.now() - startedAt),
      },
      'pixazo answer',
    );
    return { status: response.status, headers: response.headers, body };
  } catch (error) {
    if (error instanceof PixazoError) throw error;
    if (request.signal?.aborted) throw abortErrorFrom(request.signal);
    if (timeout.aborted) {
      throw new TimeoutError(`${target} got no complete answer within ${context.timeoutMs} ms`, {
        cause: error,
        requestId: request.requestId,
      });
    }
    const codes = causeCodes(error);
    const connectFailed = codes.length > 0 && codes.every((c) => CONNECT_FAILURE_CODES.has(c));
    const detail = codes.length ? codes.join(', ') : innermostMessage(error);
    throw new NetworkError(`${target} failed: ${context.redact(detail)}`, {
      cause: error,
      requestId: request.requestId,
      connectFailed,
      causeCodes: codes,
    });
  }
}

interface ErrorBody {
  /** Pixazo's short `error` ("Insufficient Balance"). */
  error: string | undefined;
  /** Pixazo's or APIM's `message`, or a non-JSON body's text. */
  message: string | undefined;
  field: string | undefined;
}

function oneLine(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

function stringField(body: object, key: string): string | undefined {
  const value = (body as Record<string, unknown>)[key];
  return typeof value === 'string' && value.trim() ? oneLine(value) : undefined;
}

/** Reads Pixazo-style `{error, message}`, APIM-style `{statusCode, message}`, or plain text. */
function readErrorBody(body: unknown): ErrorBody {
  if (typeof body === 'string') {
    return { error: undefined, message: body.trim() ? oneLine(body) : undefined, field: undefined };
  }
  if (typeof body !== 'object' || body === null) {
    return { error: undefined, message: undefined, field: undefined };
  }
  const error = stringField(body, 'error');
  const message = stringField(body, 'message');
  const named = stringField(body, 'field') ?? stringField(body, 'param');
  // Without an explicit field, the first parameter name the message mentions.
  const mentioned = WIRE_FIELD_NAMES.find((name) =>
    new RegExp(`\\b${name}\\b`).test(`${error ?? ''} ${message ?? ''}`),
  );
  return { error, message, field: named ?? mentioned };
}

function codeForStatus(status: number, body: ErrorBody): PixazoErrorCode {
  if (status === 400 && /model not found/i.test(`${body.error} ${body.message}`)) {
    return 'MODEL_NOT_FOUND';
  }
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 402) return 'INSUFFICIENT_BALANCE';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status >= 500) return 'SERVER_ERROR';
  return 'BAD_REQUEST';
}

/** The typed error for a non-2xx answer. */
export function errorFromAnswer(
  answer: HttpAnswer,
  context: Pick<HttpContext, 'redact'>,
  requestId?: string,
): PixazoHttpError {
  const body = readErrorBody(answer.body);
  const said = `${body.error ? ` ${body.error}` : ''}${body.message ? `: ${body.message}` : ''}`;
  const message = context.redact(`Pixazo answered HTTP ${answer.status}${said}`);
  const pixazoError = body.error ? context.redact(body.error) : undefined;
  if (answer.status === 429) {
    return new RateLimitedError(message, {
      requestId,
      pixazoError,
      retryAfterMs: parseRetryAfterMs(answer.headers.get('retry-after')),
    });
  }
  return new PixazoHttpError(codeForStatus(answer.status, body), message, {
    status: answer.status,
    requestId,
    pixazoError,
    field: body.field,
  });
}

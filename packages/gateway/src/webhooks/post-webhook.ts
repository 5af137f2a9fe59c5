/**
 * One POST of a webhook message: through node:http(s) with the guarded lookup (the addresses
 * connected to are the ones checked), no redirect followed (a 3xx is a failed attempt), one
 * deadline for the whole exchange, and the answer's body read no further than a small cap.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { guardedLookup, isPublicAddress, parseWebhookUrl, WebhookUrlError } from './webhook-url.ts';

/** The answer's body is read (up to this) only to free the connection; receivers say nothing we use. */
const MAX_ANSWER_BYTES = 64 * 1024;

export interface PostOutcome {
  /** null when no answer came. */
  statusCode: number | null;
  /** Why the attempt failed; null for a 2xx. */
  error: string | null;
}

export interface PostRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  allowPrivate: boolean;
}

export function postWebhook(request: PostRequest): Promise<PostOutcome> {
  return new Promise((resolve) => {
    const fail = (error: string) => resolve({ statusCode: null, error });
    let url: URL;
    try {
      url = parseWebhookUrl(request.url);
    } catch (error) {
      return fail((error as Error).message);
    }
    // An IP literal is connected to without a lookup, so it is checked here.
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (!request.allowPrivate && isIP(host) !== 0 && !isPublicAddress(host)) {
      return fail(`refused: ${host} is not a public address`);
    }
    const signal = AbortSignal.timeout(request.timeoutMs);
    const client = url.protocol === 'https:' ? https : http;
    const outgoing = client.request(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(request.body)),
          'user-agent': 'zimage-webhooks',
          ...request.headers,
        },
        lookup: guardedLookup(request.allowPrivate),
        agent: false,
        signal,
      },
      (answer) => {
        const statusCode = answer.statusCode ?? null;
        let read = 0;
        answer.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_ANSWER_BYTES) answer.destroy();
        });
        const done = () => {
          const ok = statusCode !== null && statusCode >= 200 && statusCode < 300;
          resolve({ statusCode, error: ok ? null : `receiver answered HTTP ${statusCode}` });
        };
        answer.on('end', done);
        answer.on('close', done);
        answer.on('error', done);
      },
    );
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      if (signal.aborted) {
        return fail(`no answer within ${request.timeoutMs} ms`);
      }
      if (error instanceof WebhookUrlError) return fail(`refused: ${error.message}`);
      fail(error.code ? `${error.code}: ${error.message}` : error.message);
    });
    outgoing.end(request.body);
  });
}

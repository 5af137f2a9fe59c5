/** Small answers of the plain HTTP routes (everything but /graphql). */
import type { ServerResponse } from 'node:http';

export function sendText(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'x-content-type-options': 'nosniff',
  });
  res.end(text);
}

/** 405 with the methods the route does take. */
export function methodNotAllowed(res: ServerResponse, allowed: readonly string[]): void {
  sendText(res, 405, 'Method Not Allowed\n', { allow: allowed.join(', ') });
}

/** Plain node:http plumbing: answers as values, bounded body reading. */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** An answer computed before it is written, so a fault can still drop it instead. */
export interface SimResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export function json(
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): SimResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: Buffer.from(JSON.stringify(value)),
  };
}

export function send(res: ServerResponse, response: SimResponse): void {
  res.writeHead(response.status, {
    ...response.headers,
    'content-length': String(response.body.length),
  });
  res.end(response.body);
}

/**
 * The request body, or null when it exceeds `limit` bytes. An over-long body is discarded
 * rather than destroyed, so that the 413 answer can still be written.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.resolve(null);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      req.resume();
      resolve(null);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('close', () => reject(new RequestAbortedError()));
  });
}

/** The client went away before its body arrived: there is no one to answer. */
export class RequestAbortedError extends Error {
  override name = 'RequestAbortedError';
  constructor() {
    super('The client closed the request before sending its whole body');
  }
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

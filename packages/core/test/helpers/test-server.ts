/**
 * A tiny programmable HTTP server on 127.0.0.1 for the cases the simulator does not produce
 * (arbitrary statuses and bodies, refused connections, odd content types). Records every
 * request it receives, so tests can count what actually reached the wire.
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

export type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  body: string,
  index: number,
) => void | Promise<void>;

export interface TestServer {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Resolves once `count` requests have arrived (before the handler runs for the last one). */
  arrived(count: number): Promise<void>;
  close(): Promise<void>;
}

export async function startTestServer(handler: Handler, port = 0): Promise<TestServer> {
  const requests: RecordedRequest[] = [];
  const waiters = new Set<() => void>();
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const index = requests.length;
    requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body,
      at: performance.now(),
    });
    for (const check of [...waiters]) check();
    await handler(req, res, body, index);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actualPort = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    requests,
    arrived: (count) =>
      new Promise((resolve) => {
        const check = () => {
          if (requests.length < count) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** A port on 127.0.0.1 where nothing listens (it was free a moment ago). */
export async function unusedPort(): Promise<number> {
  const server = await startTestServer(() => {});
  await server.close();
  return server.port;
}

export const TURBO_ID = 'z-image-turbo-834_019d0000-0000-7000-8000-000000000001';

export function statusBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    request_id: TURBO_ID,
    status: 'QUEUED',
    model_id: 'z-image-turbo-834',
    error: null,
    output: null,
    created_at: '2026-03-31T10:00:00.000Z',
    updated_at: '2026-03-31T10:00:00.000Z',
    completed_at: null,
    ...overrides,
  };
}

/**
 * A `serve(handler, port?)` for one test file: every server it starts is closed after each
 * test, so a failing test cannot leak a listening port into the next.
 */
export function serveForEachTest(): (handler: Handler, port?: number) => Promise<TestServer> {
  const servers: TestServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  return async (handler, port) => {
    const server = await startTestServer(handler, port);
    servers.push(server);
    return server;
  };
}

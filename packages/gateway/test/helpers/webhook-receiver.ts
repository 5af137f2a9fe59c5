/**
 * A webhook receiver on loopback for the outbound-webhook tests: it records every request
 * (headers, raw body, arrival order) and answers each with the status `answer` gives for it.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  /** The raw body, as a receiver must verify it. */
  body: string;
  path: string;
}

export interface WebhookReceiver {
  /** http://127.0.0.1:<port>/hook */
  readonly url: string;
  readonly received: ReceivedWebhook[];
  /** Resolves once `count` requests have been answered (a hanging one never is). */
  waitFor(count: number): Promise<ReceivedWebhook[]>;
  /** Resolves once `count` requests have arrived, answered or not. */
  arrived(count: number): Promise<ReceivedWebhook[]>;
  close(): Promise<void>;
}

/**
 * `answer(n, request)`: the status of the n-th request (1-based), or null to never answer it
 * (a receiver that hangs); default 204 for all.
 */
export async function startWebhookReceiver(
  answer: (n: number, request: ReceivedWebhook) => number | null = () => 204,
  port = 0,
): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  type Waiter = { count: number; resolve: (all: ReceivedWebhook[]) => void };
  const answered: Waiter[] = [];
  const arrivals: Waiter[] = [];
  let answeredCount = 0;
  const settle = (waiters: Waiter[], count: number) => {
    for (const waiter of waiters.filter((w) => count >= w.count)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve([...received]);
    }
  };
  const wait = (waiters: Waiter[], count: number, now: number) =>
    now >= count
      ? Promise.resolve([...received])
      : new Promise<ReceivedWebhook[]>((resolve) => waiters.push({ count, resolve }));
  const server = createServer(async (req, res) => {
    const body = await text(req);
    const request = { headers: req.headers, body, path: req.url ?? '/' };
    received.push(request);
    settle(arrivals, received.length);
    const status = answer(received.length, request);
    if (status === null) return;
    res.statusCode = status;
    res.end();
    res.once('finish', () => settle(answered, ++answeredCount));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}/hook`,
    received,
    waitFor: (count) => wait(answered, count, answeredCount),
    arrived: (count) => wait(arrivals, count, received.length),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The Standard Webhooks headers of a received request, as `Webhook.verify` takes them. */
export function webhookHeaders(request: ReceivedWebhook): Record<string, string> {
  const pick = (name: string) => String(request.headers[name] ?? '');
  return {
    'webhook-id': pick('webhook-id'),
    'webhook-timestamp': pick('webhook-timestamp'),
    'webhook-signature': pick('webhook-signature'),
  };
}

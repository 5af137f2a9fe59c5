/** Shared test plumbing: a simulator per test, wire calls, polling, a webhook receiver. */
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MODELS, type ModelKey } from '@zimage/pixazo-spec';
import { expect, onTestFinished, vi } from 'vitest';
import {
  type PixazoSim,
  type PixazoSimOptions,
  type StatusBody,
  startPixazoSim,
} from '../src/index.ts';

export const KEY = 'test-key';
export const KEY_HEADER = 'Ocp-Apim-Subscription-Key';

export {
  SEED_BASE_MINIMUM_REQUEST,
  SEED_TURBO_FULL_EXAMPLE,
} from '@zimage/pixazo-spec/seed-examples';

/**
 * A simulator that is closed when the current test ends. Fast, and without a rate limit since
 * tests poll far faster than Pixazo allows (the rate limit has its own tests).
 */
export async function startSim(options: PixazoSimOptions = {}): Promise<PixazoSim> {
  const sim = await startPixazoSim({
    timeScale: 0.01,
    keys: { [KEY]: 5 },
    rateLimit: false,
    ...options,
  });
  onTestFinished(() => sim.close());
  return sim;
}

export interface SubmitOptions {
  model?: ModelKey;
  key?: string | null;
  headers?: Record<string, string>;
}

export function submit(sim: PixazoSim, body: unknown, options: SubmitOptions = {}) {
  const { model = 'turbo', key = KEY, headers = {} } = options;
  return fetch(`${sim.url}${MODELS[model].requestPath}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'cache-control': 'no-cache',
      ...(key === null ? {} : { [KEY_HEADER]: key }),
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export interface Accepted {
  request_id: string;
  status: string;
  polling_url: string;
}

/** Submits and expects a 202; returns its body. */
export async function submitOk(
  sim: PixazoSim,
  body: unknown,
  options: SubmitOptions = {},
): Promise<Accepted> {
  const response = await submit(sim, body, options);
  const json = (await response.json()) as Accepted;
  if (response.status !== 202) {
    throw new Error(`expected 202, got ${response.status}: ${JSON.stringify(json)}`);
  }
  return json;
}

export function getStatus(sim: PixazoSim, requestId: string, key: string | null = KEY) {
  return fetch(`${sim.url}/v2/requests/status/${requestId}`, {
    headers: key === null ? {} : { [KEY_HEADER]: key },
  });
}

const TERMINAL = ['COMPLETED', 'FAILED', 'ERROR'];

/**
 * For `vi.waitFor` on facts that only the clock brings about (a job's end, a TTL, a rate
 * window): check often, and give up well past any passing run (a safety net, not an assertion).
 */
export const CLOCK_WAIT = { interval: 5, timeout: 4000 };

/** Polls the status route, as a client would, until the job is terminal; every body seen. */
export async function pollToEnd(
  sim: PixazoSim,
  requestId: string,
  key: string = KEY,
): Promise<StatusBody[]> {
  const seen: StatusBody[] = [];
  let refused: number | undefined;
  await vi.waitFor(async () => {
    const response = await getStatus(sim, requestId, key);
    // Not retried: a job that cannot be read will not become readable.
    if (response.status !== 200) {
      refused = response.status;
      return;
    }
    const body = (await response.json()) as StatusBody;
    seen.push(body);
    expect(TERMINAL).toContain(body.status);
  }, CLOCK_WAIT);
  if (refused !== undefined) throw new Error(`status answered ${refused}`);
  return seen;
}

export async function finalStatus(sim: PixazoSim, requestId: string): Promise<StatusBody> {
  const seen = await pollToEnd(sim, requestId);
  return seen[seen.length - 1] as StatusBody;
}

export interface Receiver {
  url: string;
  /** Each delivery, recorded before it is answered. */
  received: { body: unknown; contentType: string | undefined }[];
  /** Stops listening (also done when the test ends). */
  close(): Promise<void>;
}

/** A real webhook endpoint; `answer` picks the status for the n-th (0-based) delivery. */
export async function startReceiver(answer: (n: number) => number = () => 200): Promise<Receiver> {
  const received: Receiver['received'] = [];
  let calls = 0;
  const server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    received.push({
      body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
      contentType: req.headers['content-type'],
    });
    res.writeHead(answer(calls++)).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const close = async () => {
    if (!server.listening) return;
    const closed = once(server, 'close');
    server.closeAllConnections();
    server.close();
    await closed;
  };
  onTestFinished(close);
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/webhook/callback`, received, close };
}

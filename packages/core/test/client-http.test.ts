/**
 * The client against a programmable loopback server: error mapping for every documented status
 * and body shape, the no-resend rule of the generate POST, retries of status reads, and the
 * polling loop's callbacks, abort and deadline.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  AbortError,
  JobFailedError,
  NetworkError,
  PixazoClient,
  type PixazoClientOptions,
  PixazoHttpError,
  RateLimitedError,
  SubmissionUncertainError,
  TimeoutError,
  ValidationError,
  validateGenerateInput,
} from '../src/index.ts';
import { failure } from './helpers/failure.ts';
import { steppedSleep } from './helpers/stepped-sleep.ts';
import {
  type Handler,
  sendJson,
  serveForEachTest,
  statusBody,
  type TestServer,
  TURBO_ID,
  unusedPort,
} from './helpers/test-server.ts';

const KEY = 'test-key-5f3a9c';
const input = { prompt: 'a red fox in snow', imageSize: 'square_1_1' } as const;
const accepted = { request_id: TURBO_ID, status: 'QUEUED', polling_url: 'x' };
/** No real waiting between retries; the backoff still runs through the client's sleep. */
const noJitter = { random: () => 0 };

const serve = serveForEachTest();

function clientFor(server: { url: string }, options: Partial<PixazoClientOptions> = {}) {
  return new PixazoClient({ apiKey: KEY, baseUrl: server.url, ...noJitter, ...options });
}

describe('error mapping', () => {
  it.each([
    {
      status: 401,
      body: { statusCode: 401, message: 'Access denied due to invalid subscription key.' },
      code: 'UNAUTHORIZED',
      says: 'Access denied due to invalid subscription key.',
    },
    {
      status: 402,
      body: { error: 'Insufficient Balance', message: 'Your wallet does not have enough balance.' },
      code: 'INSUFFICIENT_BALANCE',
      says: 'Insufficient Balance: Your wallet does not have enough balance.',
    },
    {
      status: 403,
      body: { error: 'Forbidden', message: 'Not allowed' },
      code: 'FORBIDDEN',
      says: 'Forbidden: Not allowed',
    },
    {
      status: 404,
      body: { statusCode: 404, message: 'Resource not found' },
      code: 'NOT_FOUND',
      says: 'Resource not found',
    },
    {
      status: 500,
      body: { error: 'Internal Server Error', message: 'boom' },
      code: 'SERVER_ERROR',
      says: 'boom',
    },
    {
      status: 502,
      body: '<html><body>Bad   gateway</body></html>',
      code: 'SERVER_ERROR',
      says: 'Bad gateway',
    },
    { status: 503, body: '', code: 'SERVER_ERROR', says: 'HTTP 503' },
  ])('status read answered $status → $code', async ({ status, body, code, says }) => {
    const server = await serve((_req, res) => {
      if (typeof body === 'string') {
        res.writeHead(status, { 'content-type': 'text/html' });
        res.end(body);
      } else sendJson(res, status, body);
    });
    const error = await failure(
      clientFor(server, { retry: { maxAttempts: 1 } }).getStatus(TURBO_ID),
    );
    expect(error).toBeInstanceOf(PixazoHttpError);
    expect(error).toMatchObject({ code, status, requestId: TURBO_ID });
    expect(error.message).toContain(says);
  });

  it('400 validation names the field from the body', async () => {
    const server = await serve((_req, res) =>
      sendJson(res, 400, {
        error: 'Bad Request',
        message: 'image_size must be one of …',
        field: 'image_size',
      }),
    );
    const error = await failure(clientFor(server).submit(input));
    expect(error).toMatchObject({ code: 'BAD_REQUEST', status: 400, field: 'image_size' });
  });

  it('400 validation without a field names the parameter the message mentions', async () => {
    const server = await serve((_req, res) =>
      sendJson(res, 400, { error: 'Bad Request', message: 'num_images must be at most 4' }),
    );
    const error = await failure(clientFor(server).submit(input));
    expect(error).toMatchObject({ code: 'BAD_REQUEST', field: 'num_images' });
  });

  it('400 Model not found', async () => {
    const server = await serve((_req, res) =>
      sendJson(res, 400, {
        error: 'Model not found',
        message: "Model 'z-image-turbo-834' not found or is disabled",
      }),
    );
    const error = await failure(clientFor(server).submit(input));
    expect(error).toMatchObject({
      code: 'MODEL_NOT_FOUND',
      status: 400,
      pixazoError: 'Model not found',
    });
    expect(server.requests).toHaveLength(1);
  });

  it('an unreadable 200 status body is INVALID_RESPONSE, not retried', async () => {
    const server = await serve((_req, res) => sendJson(res, 200, { status: 'QUEUED' }));
    const error = await failure(clientFor(server).getStatus(TURBO_ID));
    expect(error.code).toBe('INVALID_RESPONSE');
    expect(server.requests).toHaveLength(1);
  });

  it('a status body for another request id is INVALID_RESPONSE', async () => {
    const server = await serve((_req, res) =>
      sendJson(res, 200, statusBody({ request_id: 'z-image-turbo-834_other' })),
    );
    const error = await failure(clientFor(server).getStatus(TURBO_ID));
    expect(error).toMatchObject({ code: 'INVALID_RESPONSE', requestId: TURBO_ID });
  });

  it('refuses redirects, so the key never follows one to another host', async () => {
    const elsewhere = await serve((_req, res) => sendJson(res, 200, statusBody()));
    const server = await serve((_req, res) => {
      res.writeHead(302, { location: `${elsewhere.url}/v2/requests/status/${TURBO_ID}` });
      res.end();
    });
    const error = await failure(
      clientFor(server, { retry: { maxAttempts: 1 } }).getStatus(TURBO_ID),
    );
    expect(error.code).toBe('NETWORK_ERROR');
    expect(elsewhere.requests).toHaveLength(0);
  });
});

describe('submit', () => {
  it('sends the documented headers and the snake_case body', async () => {
    const server = await serve((_req, res) => sendJson(res, 202, accepted));
    const submission = await clientFor(server, { userAgent: 'zimage-test/1' }).submit(
      { ...input, numImages: 2 },
      { webhookUrl: 'http://127.0.0.1:9/hook' },
    );
    const [request] = server.requests;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe('/z-image-turbo-834/v1/z-image-turbo-request');
    expect(request?.headers).toMatchObject({
      'content-type': 'application/json',
      'cache-control': 'no-cache',
      'ocp-apim-subscription-key': KEY,
      'user-agent': 'zimage-test/1',
      'x-webhook-url': 'http://127.0.0.1:9/hook',
    });
    expect(JSON.parse(request?.body ?? '')).toEqual({
      prompt: input.prompt,
      image_size: 'square_1_1',
      num_inference_steps: 8,
      num_images: 2,
      enable_safety_checker: true,
      output_format: 'png',
      acceleration: 'none',
    });
    expect(submission).toMatchObject({
      requestId: TURBO_ID,
      pollingUrl: 'x',
      model: 'turbo',
      cost: { microUsd: 16_000, usd: 0.016 },
    });
    expect(submission.expectedDurationMs).toBeGreaterThan(0);
  });

  it('validates before sending anything', async () => {
    const server = await serve((_req, res) => sendJson(res, 202, accepted));
    const client = clientFor(server);
    const error = await failure(client.submit({ ...input, numInferenceSteps: 51 }));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('numInferenceSteps');
    expect(error.message).toContain('from 1 to 50');
    await expect(client.submit(input, { webhookUrl: 'ftp://x' })).rejects.toMatchObject({
      field: 'webhookUrl',
    });
    expect(server.requests).toHaveLength(0);
  });

  const answer500: Handler = (_req, res) =>
    sendJson(res, 500, { error: 'Internal Server Error', message: 'x' });
  const dropAfterReading: Handler = (req) => {
    req.socket.destroy();
  };
  const unreadable202: Handler = (_req, res) => sendJson(res, 202, { ok: true });
  it.each([
    ['a 500', answer500, 500],
    ['a dropped connection', dropAfterReading, undefined],
    ['a 202 with an unreadable body', unreadable202, undefined],
  ])('after %s: SubmissionUncertainError, sent exactly once', async (_case, handler, status) => {
    const server = await serve(handler);
    const error = await failure(clientFor(server).submit(input));
    expect(error).toBeInstanceOf(SubmissionUncertainError);
    expect(error.status).toBe(status);
    expect(error.message).toContain('may have accepted it');
    expect(server.requests).toHaveLength(1);
  });

  it('after a timeout: SubmissionUncertainError caused by TimeoutError, sent once', async () => {
    const server = await serve(() => {
      // Never answers.
    });
    // The timeout must only fire once the POST has arrived: 1 s covers that on a busy machine.
    const error = await failure(clientFor(server, { requestTimeoutMs: 1000 }).submit(input));
    expect(error).toBeInstanceOf(SubmissionUncertainError);
    expect(error.cause).toBeInstanceOf(TimeoutError);
    // The server may record the POST after the client gave up on it; the client is done.
    await server.arrived(1);
    expect(server.requests).toHaveLength(1);
  });

  it("a submit's own timeoutMs wins over the client's requestTimeoutMs", async () => {
    const server = await serve(() => {
      // Never answers.
    });
    // The client's own timeout (10 min) would outlast the test: only the call's can end it.
    const client = clientFor(server, { requestTimeoutMs: 600_000 });
    const error = await failure(client.submit(input, { timeoutMs: 1000 }));
    expect(error).toBeInstanceOf(SubmissionUncertainError);
    expect(error.cause).toBeInstanceOf(TimeoutError);
    expect((error.cause as Error).message).toContain('within 1000 ms');
    await server.arrived(1);
    expect(server.requests).toHaveLength(1);
  });

  it('keeps a request id a 5xx body happened to carry', async () => {
    const server = await serve((_req, res) =>
      sendJson(res, 504, { request_id: TURBO_ID, message: 'upstream timeout' }),
    );
    const error = await failure(clientFor(server).submit(input));
    expect(error).toMatchObject({ code: 'SUBMISSION_UNCERTAIN', requestId: TURBO_ID, status: 504 });
  });

  it('re-sends after a refused connection, once something listens', async () => {
    const port = await unusedPort();
    const base = { url: `http://127.0.0.1:${port}` };
    let sleeps = 0;
    let server: TestServer | undefined;
    const client = clientFor(base, {
      // The first backoff is where the server comes up.
      sleep: async () => {
        sleeps++;
        if (sleeps === 1) server = await serve((_req, res) => sendJson(res, 202, accepted), port);
      },
    });
    const submission = await client.submit(input);
    expect(submission.requestId).toBe(TURBO_ID);
    expect(sleeps).toBe(1);
    expect(server?.requests).toHaveLength(1);
  });

  it('gives up on a refused connection with NetworkError(connectFailed) when the policy is spent', async () => {
    const port = await unusedPort();
    const error = await failure(
      clientFor({ url: `http://127.0.0.1:${port}` }, { retry: { maxAttempts: 2 } }).submit(input),
    );
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).connectFailed).toBe(true);
    expect((error as NetworkError).causeCodes).toContain('ECONNREFUSED');
  });

  it('honours Retry-After on 429 and then succeeds', async () => {
    const server = await serve((_req, res, _body, index) => {
      if (index === 0)
        sendJson(
          res,
          429,
          { statusCode: 429, message: 'Rate limit is exceeded.' },
          { 'retry-after': '1' },
        );
      else sendJson(res, 202, accepted);
    });
    const submission = await clientFor(server).submit(input);
    expect(submission.requestId).toBe(TURBO_ID);
    const [first, second] = server.requests;
    expect(server.requests).toHaveLength(2);
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(1000);
  });

  it('fails at once with RateLimitedError when Retry-After exceeds what it may wait', async () => {
    const server = await serve((_req, res) =>
      sendJson(res, 429, { statusCode: 429, message: 'slow down' }, { 'retry-after': '120' }),
    );
    const error = await failure(clientFor(server).submit(input));
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({ code: 'RATE_LIMITED', status: 429, retryAfterMs: 120_000 });
    expect(server.requests).toHaveLength(1);
  });

  it('uses a model path override (for a renamed model path)', async () => {
    const server = await serve((_req, res) => sendJson(res, 202, accepted));
    await clientFor(server, { modelPaths: { turbo: '/z-image-turbo-999/v1/req' } }).submit(input);
    expect(server.requests[0]?.url).toBe('/z-image-turbo-999/v1/req');
  });
});

describe('getStatus', () => {
  it('retries 503, 429, a reset and a timeout, then succeeds', async () => {
    const server = await serve((req, res, _body, index) => {
      if (index === 0) sendJson(res, 503, { statusCode: 503, message: 'Service unavailable' });
      else if (index === 1)
        sendJson(res, 429, { statusCode: 429, message: 'x' }, { 'retry-after': '0' });
      else if (index === 2) req.socket.destroy();
      else if (index === 3)
        return; // never answers: the per-request timeout
      else sendJson(res, 200, statusBody({ status: 'PROCESSING' }));
    });
    const retries: number[] = [];
    const client = clientFor(server, {
      // Only the silent read may time out: 1 s is far more than the others take, even loaded.
      requestTimeoutMs: 1000,
      retry: { maxAttempts: 6 },
      logger: { warn: (fields) => retries.push(fields.attempt as number) },
    });
    const status = await client.getStatus(TURBO_ID);
    expect(status).toMatchObject({ requestId: TURBO_ID, status: 'PROCESSING', model: 'turbo' });
    expect(server.requests).toHaveLength(5);
    expect(
      server.requests.every(
        (r) => r.method === 'GET' && r.url === `/v2/requests/status/${TURBO_ID}`,
      ),
    ).toBe(true);
    expect(retries).toEqual([1, 2, 3, 4]);
  });

  it('draws each backoff with full jitter from a doubling ceiling', async () => {
    const server = await serve((_req, res) => sendJson(res, 500, { message: 'down' }));
    const delays: number[] = [];
    const client = clientFor(server, {
      random: () => 0.5,
      retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 300 },
      sleep: async (ms) => {
        delays.push(ms);
      },
    });
    const error = await failure(client.getStatus(TURBO_ID));
    expect(error).toMatchObject({ code: 'SERVER_ERROR', status: 500 });
    expect(delays).toEqual([50, 100, 150]);
    expect(server.requests).toHaveLength(4);
  });

  it('does not retry 401/404', async () => {
    const server = await serve((_req, res) =>
      sendJson(res, 404, { error: 'Not Found', message: 'no such request' }),
    );
    const error = await failure(clientFor(server).getStatus(TURBO_ID));
    expect(error.code).toBe('NOT_FOUND');
    expect(server.requests).toHaveLength(1);
  });

  it('stops retrying once maxElapsedMs would be exceeded', async () => {
    const server = await serve((_req, res) =>
      sendJson(res, 429, { message: 'x' }, { 'retry-after': '2' }),
    );
    const error = await failure(
      clientFor(server, { retry: { maxElapsedMs: 1000 } }).getStatus(TURBO_ID),
    );
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(server.requests).toHaveLength(1);
  });
});

describe('waitForCompletion', () => {
  const fast = { pollSchedule: { firstDelayMs: 5, minIntervalMs: 5, maxIntervalMs: 10 } };
  const done = statusBody({
    status: 'COMPLETED',
    output: { media_url: ['http://127.0.0.1:1/a.png'], media_type: 'application/octet-stream' },
  });

  function sequence(...bodies: Record<string, unknown>[]): Handler {
    return (_req, res, _body, index) =>
      sendJson(res, 200, bodies[Math.min(index, bodies.length - 1)]);
  }

  it('fires onStatus only when the status changes', async () => {
    const queued = statusBody();
    const processing = statusBody({ status: 'PROCESSING' });
    const server = await serve(sequence(queued, queued, processing, processing, processing, done));
    const seen: string[] = [];
    const status = await clientFor(server, fast).waitForCompletion(TURBO_ID, {
      onStatus: (s) => seen.push(s.status),
    });
    expect(status.mediaUrls).toEqual(['http://127.0.0.1:1/a.png']);
    expect(seen).toEqual(['QUEUED', 'PROCESSING', 'COMPLETED']);
    expect(server.requests).toHaveLength(6);
  });

  it('skips the status the caller already knows', async () => {
    const server = await serve(sequence(statusBody(), done));
    const seen: string[] = [];
    await clientFor(server, fast).waitForCompletion(TURBO_ID, {
      knownStatus: 'QUEUED',
      onStatus: (s) => seen.push(s.status),
    });
    expect(seen).toEqual(['COMPLETED']);
  });

  it.each([
    ['FAILED', 'JOB_FAILED'],
    ['ERROR', 'JOB_ERROR'],
  ])('%s ends the wait with JobFailedError carrying Pixazo’s text', async (end, code) => {
    const server = await serve(
      sequence(statusBody({ status: end, error: 'NSFW content detected' })),
    );
    const error = await failure(clientFor(server, fast).waitForCompletion(TURBO_ID));
    expect(error).toBeInstanceOf(JobFailedError);
    expect(error).toMatchObject({
      code,
      requestId: TURBO_ID,
      jobStatus: end,
      pixazoError: 'NSFW content detected',
    });
    expect(error.message).toContain('NSFW content detected');
  });

  it('rejects with AbortError when aborted mid-sleep, and polls no more', async () => {
    const server = await serve(sequence(statusBody()));
    const controller = new AbortController();
    const steps = steppedSleep();
    const client = clientFor(server, { sleep: steps.sleep });
    const wait = client.waitForCompletion(TURBO_ID, { signal: controller.signal });
    await steps.begun(1);
    steps.wake();
    await steps.begun(2);
    // Polled once, asleep before the second poll.
    controller.abort();
    expect(await failure(wait)).toBeInstanceOf(AbortError);
    // No sleep left to wake the loop, none begun since, and no poll since.
    expect([steps.pending, steps.count]).toEqual([0, 2]);
    expect(server.requests).toHaveLength(1);
  });

  it('rejects with AbortError when aborted during a status request', async () => {
    const server = await serve(() => {
      // Hangs, so the abort lands mid-request.
    });
    const controller = new AbortController();
    const wait = clientFor(server, fast).waitForCompletion(TURBO_ID, { signal: controller.signal });
    await server.arrived(1);
    controller.abort();
    expect(await failure(wait)).toBeInstanceOf(AbortError);
    expect(server.requests).toHaveLength(1);
  });

  it('rejects with TimeoutError past its deadline, naming the last status', async () => {
    const server = await serve(sequence(statusBody({ status: 'PROCESSING' })));
    const steps = steppedSleep();
    const wait = clientFor(server, { sleep: steps.sleep }).waitForCompletion(TURBO_ID, {
      timeoutMs: 1000,
    });
    await steps.begun(1);
    steps.wake();
    // After the one poll the loop sleeps until the deadline ends it; 1 s only has to cover
    // that poll, however busy the machine.
    const error = await failure(wait);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.requestId).toBe(TURBO_ID);
    expect(error.message).toContain('last status: PROCESSING');
    expect(steps.count).toBe(2);
  });

  it('waits first until near the expected end of the request id’s model (0.9 of it, capped)', async () => {
    const server = await serve(sequence(done));
    const delays: number[] = [];
    const client = clientFor(server, { sleep: async (ms) => void delays.push(ms) });
    await client.waitForCompletion(TURBO_ID);
    await client.waitForCompletion(TURBO_ID, {
      params: validateGenerateInput({ ...input, model: 'base' }),
    });
    expect(delays).toEqual([2520, 8000]);
  });
});

describe('the API key', () => {
  it('is required, checked, and never shown', async () => {
    expect(() => new PixazoClient({ apiKey: '' })).toThrow(/apiKey is required/);
    expect(() => new PixazoClient({ apiKey: 'bad key\n' })).toThrow(/not allowed/);
    const client = new PixazoClient({ apiKey: KEY, baseUrl: 'http://127.0.0.1:1/' });
    expect(client.baseUrl).toBe('http://127.0.0.1:1');
    expect(inspect(client, { showHidden: true, depth: 5 })).not.toContain(KEY);
    expect(JSON.stringify(client)).not.toContain(KEY);
  });

  it('is redacted from error messages even when the server echoes it', async () => {
    const server = await serve((req, res) =>
      sendJson(res, 401, {
        statusCode: 401,
        message: `Key ${req.headers['ocp-apim-subscription-key']} is invalid`,
      }),
    );
    const logs: string[] = [];
    const logger = {
      debug: (f: object, m: string) => logs.push(m + JSON.stringify(f)),
      warn: (f: object, m: string) => logs.push(m + JSON.stringify(f)),
    };
    const error = await failure(clientFor(server, { logger }).getStatus(TURBO_ID));
    expect(error.code).toBe('UNAUTHORIZED');
    expect(error.message).toContain('[redacted]');
    expect(error.message).not.toContain(KEY);
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.join('\n')).not.toContain(KEY);
  });
});

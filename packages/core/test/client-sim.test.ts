/**
 * The client against the Pixazo simulator over real HTTP: the seed's own requests, every error
 * the simulator produces, the no-resend rule under injected faults, webhooks, and downloads.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type PixazoSim, startPixazoSim } from '@zimage/pixazo-sim';
import {
  SEED_BASE_FULL_EXAMPLE,
  SEED_BASE_MINIMUM_REQUEST,
  SEED_TURBO_FULL_EXAMPLE,
} from '@zimage/pixazo-spec/seed-examples';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AbortError,
  type FetchFn,
  IMAGE_SIZES,
  JobFailedError,
  OUTPUT_FORMATS,
  PIXEL_SIZES,
  PixazoClient,
  type PixazoClientOptions,
  parseStatusBody,
  SubmissionUncertainError,
  TimeoutError,
  toRequestBody,
  validateGenerateInput,
} from '../src/index.ts';
import { failure } from './helpers/failure.ts';
import { steppedSleep } from './helpers/stepped-sleep.ts';

const KEY = 'sim-key';
const POLL_FAST = { firstDelayMs: 10, minIntervalMs: 10, maxIntervalMs: 40 };

let sim: PixazoSim;
beforeAll(async () => {
  sim = await startPixazoSim({ keys: { [KEY]: 100, broke: 0 }, timeScale: 0.01, rateLimit: false });
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

function client(options: Partial<PixazoClientOptions> = {}) {
  return new PixazoClient({ apiKey: KEY, baseUrl: sim.url, pollSchedule: POLL_FAST, ...options });
}

const submits = () => sim.countRequests({ route: 'submit', method: 'POST' });

describe("the seed's example requests", () => {
  it.each([
    [
      'Turbo full',
      '/z-image-turbo-834/v1/z-image-turbo-request',
      SEED_TURBO_FULL_EXAMPLE,
      'z-image-turbo-834',
    ],
    [
      'Base minimum',
      '/z-image-base/v1/z-image-base-request',
      SEED_BASE_MINIMUM_REQUEST,
      'z-image-base',
    ],
    ['Base full', '/z-image-base/v1/z-image-base-request', SEED_BASE_FULL_EXAMPLE, 'z-image-base'],
  ])(
    '%s, sent verbatim, is queued and completes as documented',
    async (_name, path, body, modelId) => {
      const response = await fetch(`${sim.url}${path}`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'Cache-Control': 'no-cache',
          'Ocp-Apim-Subscription-Key': KEY,
        },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(202);
      const answer = (await response.json()) as Record<string, string>;
      expect(answer.status).toBe('QUEUED');
      expect(answer.request_id?.startsWith(`${modelId}_`)).toBe(true);
      expect(answer.polling_url).toBe(`${sim.url}/v2/requests/status/${answer.request_id}`);
      const status = await client().waitForCompletion(answer.request_id ?? '');
      expect(status).toMatchObject({ status: 'COMPLETED', modelId, error: null });
      expect(status.mediaUrls).toHaveLength(1);
    },
  );

  it('the client sends exactly the seed bodies for the same parameters', () => {
    const turbo = validateGenerateInput({
      prompt: SEED_TURBO_FULL_EXAMPLE.prompt,
      imageSize: 'landscape_4_3',
      numInferenceSteps: 8,
      numImages: 1,
      enableSafetyChecker: true,
      outputFormat: 'png',
      acceleration: 'none',
    });
    expect(JSON.stringify(toRequestBody(turbo))).toBe(JSON.stringify(SEED_TURBO_FULL_EXAMPLE));
    // The minimum request with the documented defaults filled in is the full request.
    const base = validateGenerateInput({
      model: 'base',
      prompt: SEED_BASE_MINIMUM_REQUEST.prompt,
      imageSize: 'landscape_4_3',
    });
    expect(toRequestBody(base)).toEqual(SEED_BASE_FULL_EXAMPLE);
  });
});

describe('generate', () => {
  it.each(
    OUTPUT_FORMATS.flatMap((format, i) => [
      { format, size: IMAGE_SIZES[i % IMAGE_SIZES.length] ?? 'square_1_1' },
    ]),
  )('downloads $format images of the $size pixel size', async ({ format, size }) => {
    const seen: string[] = [];
    const result = await client().generate(
      { prompt: `a ${format} test`, imageSize: size, outputFormat: format, numImages: 2 },
      { download: true, onStatus: (s) => seen.push(s.status) },
    );
    expect(result.submission.cost.microUsd).toBe(16_000);
    expect(result.status.status).toBe('COMPLETED');
    expect(seen.at(-1)).toBe('COMPLETED');
    expect(seen).not.toContain('QUEUED');
    expect(result.images).toHaveLength(2);
    for (const image of result.images ?? []) {
      expect(image.format).toBe(format);
      const meta = await sharp(image.bytes).metadata();
      expect(meta.format === 'jpeg' ? 'jpeg' : meta.format).toBe(format);
      expect({ width: meta.width, height: meta.height }).toEqual(PIXEL_SIZES[size]);
    }
    expect(submits()).toBe(1);
  });

  it('after QUEUED from submit, reports PROCESSING then COMPLETED for a slower Base job', async () => {
    const seen: string[] = [];
    let submitted = '';
    const result = await client().generate(
      { model: 'base', prompt: 'slow', imageSize: 'square_1_1', numInferenceSteps: 100 },
      { onSubmitted: (s) => (submitted = s.requestId), onStatus: (s) => seen.push(s.status) },
    );
    expect(submitted).toBe(result.submission.requestId);
    expect(seen).toEqual(['PROCESSING', 'COMPLETED']);
    expect(result.images).toBeNull();
  });
});

describe('errors from the simulator', () => {
  it('401 for a wrong key (APIM body)', async () => {
    const error = await failure(
      client({ apiKey: 'wrong-key' }).submit({ prompt: 'p', imageSize: 'square_1_1' }),
    );
    expect(error).toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
    expect(error.message).toContain('invalid subscription key');
    expect(error.message).not.toContain('wrong-key');
  });

  it('402 Insufficient Balance', async () => {
    const error = await failure(
      client({ apiKey: 'broke' }).submit({ prompt: 'p', imageSize: 'square_1_1' }),
    );
    expect(error).toMatchObject({
      code: 'INSUFFICIENT_BALANCE',
      status: 402,
      pixazoError: 'Insufficient Balance',
    });
  });

  it('400 naming the field, when a body slips past local validation', async () => {
    // A proxy-like fetch that corrupts the body in flight, as a buggy middlebox would.
    const corrupting: FetchFn = (url, init) =>
      fetch(url, {
        ...init,
        body: JSON.stringify({ ...JSON.parse(String(init?.body)), num_images: 9 }),
      });
    const error = await failure(
      client({ fetch: corrupting }).submit({ prompt: 'p', imageSize: 'square_1_1' }),
    );
    expect(error).toMatchObject({ code: 'BAD_REQUEST', status: 400, field: 'num_images' });
  });

  it('400 Model not found for an unknown model path', async () => {
    const error = await failure(
      client({ modelPaths: { turbo: '/z-image-turbo-999/v1/z-image-turbo-request' } }).submit({
        prompt: 'p',
        imageSize: 'square_1_1',
      }),
    );
    expect(error).toMatchObject({ code: 'MODEL_NOT_FOUND', status: 400 });
    expect(error.message).toContain("Model 'z-image-turbo-999' not found");
  });

  it('404 for an unknown request id, with the id', async () => {
    const id = 'z-image-turbo-834_00000000-0000-0000-0000-000000000000';
    const error = await failure(client().getStatus(id));
    expect(error).toMatchObject({ code: 'NOT_FOUND', status: 404, requestId: id });
  });

  it.each([
    ['jobFailed', 'JOB_FAILED', 'FAILED'],
    ['jobError', 'JOB_ERROR', 'ERROR'],
  ] as const)('%s → JobFailedError with Pixazo’s error text', async (fault, code, jobStatus) => {
    sim.setFaults({ [fault]: { next: 1 } });
    const error = await failure(client().generate({ prompt: 'p', imageSize: 'square_1_1' }));
    expect(error).toBeInstanceOf(JobFailedError);
    expect(error).toMatchObject({ code, jobStatus });
    expect((error as JobFailedError).pixazoError).toBeTruthy();
    expect(error.requestId?.startsWith('z-image-turbo-834_')).toBe(true);
  });
});

describe('the generate POST is never sent twice unless provably unsent or refused with 429', () => {
  const input = { prompt: 'once', imageSize: 'square_1_1' } as const;

  it('a 500: SubmissionUncertainError, exactly one POST', async () => {
    sim.setFaults({ serverError: { next: 1 } });
    const error = await failure(client().submit(input));
    expect(error).toBeInstanceOf(SubmissionUncertainError);
    expect(error.status).toBe(500);
    expect(submits()).toBe(1);
  });

  it('a connection dropped after the job was accepted: one POST, and the job exists', async () => {
    sim.setFaults({ drop: { next: 1 } });
    const error = await failure(client().submit(input));
    expect(error).toBeInstanceOf(SubmissionUncertainError);
    expect(error.message).toContain('may have accepted it');
    expect(submits()).toBe(1);
    expect(sim.jobs()).toHaveLength(1);
  });

  it('a slow answer past the request timeout: one POST', async () => {
    // The timeout must fire after the POST has arrived and before the slow answer, with room
    // on both sides for a busy machine.
    sim.setFaults({ slow: { next: 1, delayMs: 5000 } });
    const error = await failure(client({ requestTimeoutMs: 1000 }).submit(input));
    expect(error).toBeInstanceOf(SubmissionUncertainError);
    expect(error.cause).toBeInstanceOf(TimeoutError);
    expect(submits()).toBe(1);
  });

  it('429 is retried after at least Retry-After', async () => {
    sim.setFaults({ rateLimit: { next: 1, retryAfterSeconds: 1 } });
    const submission = await client({ random: () => 0 }).submit(input);
    const posts = sim.requests({ route: 'submit' });
    expect(posts.map((p) => p.status)).toEqual([429, 202]);
    const gap = Date.parse(posts[1]?.at ?? '') - Date.parse(posts[0]?.at ?? '');
    expect(gap).toBeGreaterThanOrEqual(1000);
    expect(sim.job(submission.requestId)).toBeDefined();
  });
});

describe('status reads and waiting', () => {
  it('getStatus retries injected 500s and 429s, then succeeds', async () => {
    const { requestId } = await client().submit({ prompt: 'p', imageSize: 'square_1_1' });
    sim.setFaults({
      serverError: { next: 2, route: 'status' },
      rateLimit: { next: 1, route: 'status', retryAfterSeconds: 1 },
    });
    const delays: number[] = [];
    const status = await client({ sleep: async (ms) => void delays.push(ms) }).getStatus(requestId);
    expect(status.requestId).toBe(requestId);
    expect(sim.requests({ route: 'status' }).map((r) => r.status)).toEqual([429, 500, 500, 200]);
    expect(delays[0]).toBeGreaterThanOrEqual(1000);
  });

  it('abort mid-wait rejects with AbortError and stops polling', async () => {
    const controller = new AbortController();
    const steps = steppedSleep();
    const stepped = client({ sleep: steps.sleep });
    const { requestId } = await stepped.submit({
      model: 'base',
      prompt: 'p',
      imageSize: 'square_1_1',
      numInferenceSteps: 100,
    });
    const wait = stepped.waitForCompletion(requestId, {
      signal: controller.signal,
      onStatus: () => controller.abort(),
    });
    await steps.begun(1);
    steps.wake();
    expect(await failure(wait)).toBeInstanceOf(AbortError);
    // The one poll's status aborted the wait: no sleep is left to wake the loop, and no poll
    // came after it.
    expect(steps.pending).toBe(0);
    expect(sim.countRequests({ route: 'status' })).toBe(1);
  });

  it('a deadline rejects with TimeoutError carrying the request id', async () => {
    const { requestId } = await client().submit({
      model: 'base',
      prompt: 'p',
      imageSize: 'square_1_1',
      numInferenceSteps: 100,
    });
    const error = await failure(client().waitForCompletion(requestId, { timeoutMs: 50 }));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.requestId).toBe(requestId);
  });
});

describe('webhooks', () => {
  it('a delivery to X-Webhook-URL parses with parseStatusBody', async () => {
    const received: unknown[] = [];
    let delivered: () => void = () => {};
    const arrival = new Promise<void>((resolve) => (delivered = resolve));
    const receiver = createServer(async (req, res) => {
      let text = '';
      for await (const chunk of req) text += chunk;
      received.push(text);
      res.writeHead(204).end();
      delivered();
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = receiver.address() as AddressInfo;
      const hook = `http://127.0.0.1:${port}/webhooks/pixazo/abc`;
      const submission = await client().submit(
        { prompt: 'hooked', imageSize: 'portrait_9_16', outputFormat: 'webp' },
        { webhookUrl: hook },
      );
      await arrival;
      const status = parseStatusBody(received[0]);
      expect(status).toMatchObject({
        requestId: submission.requestId,
        status: 'COMPLETED',
        model: 'turbo',
      });
      const image = await client().download(status.mediaUrls[0] ?? '');
      expect(image.format).toBe('webp');
      expect((await sharp(image.bytes).metadata()).height).toBe(PIXEL_SIZES.portrait_9_16.height);
    } finally {
      receiver.closeAllConnections();
      await new Promise((resolve) => receiver.close(resolve));
    }
  });
});

/**
 * Jobs end to end through the server: generate, follow over graphql-ws and over SSE, fetch the
 * images from the URLs the job gives, list, refetch, cancel, and idempotency.
 */
import { request } from 'node:http';
import { expectedDurationMs, MODELS } from '@zimage/core';
import { createClient } from 'graphql-ws';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CSRF_HEADER } from '../src/graphql/yoga.ts';
import { modelsAnswer } from '../src/models-answer.ts';
import { waitForJob } from './helpers/engine-harness.ts';
import {
  collect,
  type GatewayHarness,
  GENERATE,
  JOB_UPDATED,
  readSse,
  startGatewayHarness,
} from './helpers/gateway-harness.ts';

let h: GatewayHarness;
let key: string;

beforeAll(async () => {
  h = await startGatewayHarness();
  key = (await h.createKey()).secret;
});
afterAll(() => h.close());

type Job = Record<string, unknown> & {
  id: string;
  status: string;
  images: { url: string; width: number; height: number; contentType: string }[];
};

async function generate(input: Record<string, unknown>, as = key): Promise<Job> {
  const { body } = await h.graphql(GENERATE, { key: as, variables: { input } });
  expect(body.errors).toBeUndefined();
  return (body.data as { generateImage: Job }).generateImage;
}

describe('a job followed over graphql-ws', () => {
  it('goes QUEUED … COMPLETED, then the subscription completes; its images are served', async () => {
    const job = await generate({
      prompt: 'a lighthouse at dusk',
      imageSize: 'LANDSCAPE_16_9',
      outputFormat: 'WEBP',
      numImages: 2,
    });
    expect(job).toMatchObject({
      status: 'QUEUED',
      model: 'Z_IMAGE_TURBO',
      imageSize: 'LANDSCAPE_16_9',
      outputFormat: 'WEBP',
      numInferenceSteps: 8,
      numImages: 2,
      acceleration: 'NONE',
      guidanceScale: null,
      enableSafetyChecker: true,
      costUsd: 0.016,
      endUserId: null,
      images: [],
    });

    const results = await collect(h.wsClient(key), JOB_UPDATED, { id: job.id });
    const states = results.map((r) => (r.data as { jobUpdated: Job }).jobUpdated);
    expect(states[0]?.status).toBe('QUEUED');
    const final = states.at(-1) as Job;
    expect(final.status).toBe('COMPLETED');
    expect(final.requestId).toMatch(/^z-image-turbo-834_/);
    expect(final.completedAt).toEqual(expect.any(String));
    expect(final.images).toHaveLength(2);

    for (const image of final.images) {
      expect(image).toMatchObject({ width: 1024, height: 576, contentType: 'image/webp' });
      expect(image.url.startsWith(`${h.gateway.url}/images/${job.id}/`)).toBe(true);
      const response = await fetch(image.url);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('image/webp');
      expect(response.headers.get('cache-control')).toContain('immutable');
      const metadata = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
      expect(metadata).toMatchObject({ format: 'webp', width: 1024, height: 576 });
    }
  });

  it('gives the current state at once, and completes at once for an ended job', async () => {
    const job = await generate({ prompt: 'a red cube', imageSize: 'SQUARE_1_1' });
    const ended = await h.waitForTerminal(key, job.id);
    const results = await collect(h.wsClient(key), JOB_UPDATED, { id: job.id });
    expect(results.map((r) => (r.data as { jobUpdated: Job }).jobUpdated.status)).toEqual([
      ended.status,
    ]);
  });

  it('answers NOT_FOUND for a job that does not exist', async () => {
    const [result] = await collect(h.wsClient(key), JOB_UPDATED, { id: 'job_missing' });
    expect(result?.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('runs queries and mutations over the socket too', async () => {
    const [result] = await collect(h.wsClient(key), '{ models { id } }');
    expect(result?.data).toEqual({ models: [{ id: 'Z_IMAGE_TURBO' }, { id: 'Z_IMAGE_BASE' }] });
  });
});

describe('a job followed over SSE', () => {
  it('streams the same states over POST and GET with text/event-stream', async () => {
    const job = await generate({ prompt: 'a blue sphere', imageSize: 'PORTRAIT_3_4' });
    const post = await fetch(`${h.gateway.url}/graphql`, {
      method: 'POST',
      headers: {
        accept: 'text/event-stream',
        'content-type': 'application/json',
        authorization: `Bearer ${key}`,
      },
      body: JSON.stringify({ query: JOB_UPDATED, variables: { id: job.id } }),
    });
    expect(post.headers.get('content-type')).toContain('text/event-stream');
    const states = (await readSse(post)).map((r) => (r.data as { jobUpdated: Job }).jobUpdated);
    expect(states[0]?.id).toBe(job.id);
    expect(states.at(-1)?.status).toBe('COMPLETED');

    // GET (what EventSource-like clients send) needs the CSRF header, and works with it.
    const url = new URL(`${h.gateway.url}/graphql`);
    url.searchParams.set('query', JOB_UPDATED);
    url.searchParams.set('variables', JSON.stringify({ id: job.id }));
    const get = await fetch(url, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${key}`, [CSRF_HEADER]: '1' },
    });
    const replay = (await readSse(get)).map((r) => (r.data as { jobUpdated: Job }).jobUpdated);
    expect(replay.map((s) => s.status)).toEqual(['COMPLETED']);
  });
});

describe('image URLs', () => {
  const FORGED_HOST = 'attacker.example:666';
  const IMAGES = 'query ($id: ID!) { job(id: $id) { images { url } } }';

  /** A POST /graphql whose Host header says FORGED_HOST (fetch may not set Host). */
  function postWithForgedHost(variables: Record<string, unknown>): Promise<string> {
    const body = JSON.stringify({ query: IMAGES, variables });
    return new Promise((resolve, reject) => {
      const req = request(`${h.gateway.url}/graphql`, {
        method: 'POST',
        headers: {
          host: FORGED_HOST,
          'content-type': 'application/json',
          authorization: `Bearer ${key}`,
        },
      });
      req.once('error', reject);
      req.once('response', async (res) => {
        let text = '';
        for await (const chunk of res) text += chunk;
        resolve(text);
      });
      req.end(body);
    });
  }

  type Answer = { data?: { job?: { images: { url: string }[] } } | null } | undefined;
  const imageUrl = (answer: Answer) => answer?.data?.job?.images[0]?.url;

  it('start with the listen address, never with a forged Host header', async () => {
    const { id } = await generate({ prompt: 'a forged host', imageSize: 'SQUARE_1_1' });
    await h.waitForTerminal(key, id);
    const ownAddress = new RegExp(`^${h.gateway.url}/images/${id}/`);

    expect(imageUrl(JSON.parse(await postWithForgedHost({ id })))).toMatch(ownAddress);

    const socket = createClient({
      url: h.gateway.wsUrl,
      webSocketImpl: class extends WebSocket {
        constructor(url: string, protocols?: string | string[]) {
          super(url, protocols, { headers: { host: FORGED_HOST } });
        }
      },
      connectionParams: { authorization: `Bearer ${key}` },
      retryAttempts: 0,
    });
    try {
      const [overWs] = await collect(socket, IMAGES, { id });
      expect(imageUrl(overWs as Answer)).toMatch(ownAddress);
    } finally {
      await socket.dispose();
    }
  });
});

describe('job queries', () => {
  it('refetches a job by job(id) and node(id), and lists jobs newest first with filters', async () => {
    const other = await h.createKey();
    const first = await generate(
      { prompt: 'listing alpha', imageSize: 'SQUARE_1_1' },
      other.secret,
    );
    const second = await generate(
      { prompt: 'listing beta', imageSize: 'SQUARE_1_1', model: 'Z_IMAGE_BASE' },
      other.secret,
    );
    const byId = await h.graphql(
      `query ($id: ID!) { job(id: $id) { id prompt } node(id: $id) { id ... on Job { prompt } } }`,
      { key: other.secret, variables: { id: first.id } },
    );
    expect(byId.body.data).toEqual({
      job: { id: first.id, prompt: 'listing alpha' },
      node: { id: first.id, prompt: 'listing alpha' },
    });

    const list = async (args: string) => {
      const { body } = await h.graphql(
        `{ jobs(${args}) { edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`,
        { key: other.secret },
      );
      expect(body.errors).toBeUndefined();
      return (
        body.data as {
          jobs: {
            edges: { cursor: string; node: { id: string } }[];
            pageInfo: Record<string, unknown>;
          };
        }
      ).jobs;
    };
    const all = await list('first: 10');
    expect(all.edges.map((e) => e.node.id)).toEqual([second.id, first.id]);
    expect(all.pageInfo).toEqual({
      hasNextPage: false,
      hasPreviousPage: false,
      startCursor: second.id,
      endCursor: first.id,
    });
    const page1 = await list('first: 1');
    expect(page1.edges.map((e) => e.node.id)).toEqual([second.id]);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = await list(`first: 1, after: "${page1.pageInfo.endCursor}"`);
    expect(page2.edges.map((e) => e.node.id)).toEqual([first.id]);
    expect(page2.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    expect((await list('model: Z_IMAGE_BASE')).edges.map((e) => e.node.id)).toEqual([second.id]);
    expect((await list('search: "ALPHA"')).edges.map((e) => e.node.id)).toEqual([first.id]);
  });

  it('lists models with their prices and ranges', async () => {
    const { body } = await h.graphql(
      '{ models { id name priceUsdPerImage defaultSteps minSteps maxSteps supportsGuidanceScale accelerations } }',
      { key },
    );
    expect(body.data?.models).toEqual([
      {
        id: 'Z_IMAGE_TURBO',
        name: 'Z-Image Turbo',
        priceUsdPerImage: 0.008,
        defaultSteps: 8,
        minSteps: 1,
        maxSteps: 50,
        supportsGuidanceScale: false,
        accelerations: ['NONE'],
      },
      {
        id: 'Z_IMAGE_BASE',
        name: 'Z-Image Base',
        priceUsdPerImage: 0.01,
        defaultSteps: 28,
        minSteps: 10,
        maxSteps: 100,
        supportsGuidanceScale: true,
        accelerations: ['REGULAR', 'FAST', 'ULTRA_FAST'],
      },
    ]);
  });
});

describe('what clients read from models', () => {
  it('gives the configured prompt limit and the expected duration the gateway itself uses', async () => {
    const configured = await startGatewayHarness({ maxPromptLength: 1234 });
    const { body } = await configured.graphql(
      `{ models { id maxImages maxPromptLength
          expectedDurationMs
          fourImages: expectedDurationMs(numImages: 4, numInferenceSteps: 20) } }`,
      { key: configured.adminKey },
    );
    await configured.close();
    const [turbo, base] = (body.data as { models: Record<string, number>[] }).models;
    expect(turbo).toEqual({
      id: 'Z_IMAGE_TURBO',
      maxImages: 4,
      maxPromptLength: 1234,
      expectedDurationMs: expectedDurationMs(MODELS.turbo, {
        numInferenceSteps: 8,
        numImages: 1,
        acceleration: 'none',
      }),
      fourImages: expectedDurationMs(MODELS.turbo, {
        numInferenceSteps: 20,
        numImages: 4,
        acceleration: 'none',
      }),
    });
    expect(base?.expectedDurationMs).toBe(
      expectedDurationMs(MODELS.base, {
        numInferenceSteps: 28,
        numImages: 1,
        acceleration: 'regular',
      }),
    );
  });

  it('answers fixtures (modelsAnswer) exactly as the running gateway answers', async () => {
    const query =
      '{ models { id name priceUsdPerImage maxImages maxPromptLength expectedDurationMs accelerations } }';
    const { body } = await h.graphql(query, { key });
    expect(await modelsAnswer(query)).toEqual(body.data);
  });

  it('gives each job the expected duration of its own settings', async () => {
    const job = await generate({
      model: 'Z_IMAGE_BASE',
      prompt: 'a fox',
      imageSize: 'SQUARE_1_1',
      numInferenceSteps: 12,
      numImages: 3,
      acceleration: 'FAST',
    });
    const { body } = await h.graphql('query ($id: ID!) { job(id: $id) { expectedDurationMs } }', {
      key,
      variables: { id: job.id },
    });
    expect(body.data?.job).toEqual({
      expectedDurationMs: expectedDurationMs(MODELS.base, {
        numInferenceSteps: 12,
        numImages: 3,
        acceleration: 'fast',
      }),
    });
  });
});

describe('mutations', () => {
  it('returns the same job for a repeated idempotency key, charging once', async () => {
    const payer = await h.createKey();
    const input = { prompt: 'idempotent', imageSize: 'SQUARE_1_1', idempotencyKey: 'once' };
    const a = await generate(input, payer.secret);
    const b = await generate(input, payer.secret);
    expect(b.id).toBe(a.id);
    const { body } = await h.graphql('{ viewer { usage { spentTodayUsd } } }', {
      key: payer.secret,
    });
    expect(body.data?.viewer).toEqual({ usage: { spentTodayUsd: 0.008 } });
  });

  it('refuses a repeated idempotency key with other parameters, charging nothing more', async () => {
    const payer = await h.createKey();
    const input = { prompt: 'idempotent', imageSize: 'SQUARE_1_1', idempotencyKey: 'reused' };
    await generate(input, payer.secret);
    const { body } = await h.graphql(GENERATE, {
      key: payer.secret,
      variables: { input: { ...input, prompt: 'something else' } },
    });
    expect(body.data).toBeNull();
    expect(body.errors).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/idempotencyKey was already used for another request/),
        extensions: { code: 'BAD_USER_INPUT', field: 'idempotencyKey' },
      }),
    ]);
    const usage = await h.graphql('{ viewer { usage { spentTodayUsd } } }', { key: payer.secret });
    expect(usage.body.data?.viewer).toEqual({ usage: { spentTodayUsd: 0.008 } });
  });

  it('refuses to cancel a job already sent to Pixazo, naming the field; it completes', async () => {
    const owner = await h.createKey();
    const job = await generate(
      { prompt: 'sent already', imageSize: 'SQUARE_1_1', model: 'Z_IMAGE_TURBO' },
      owner.secret,
    );
    const { gateway } = h;
    await waitForJob(gateway, job.id as string, (stored) => stored.submission !== 'pending');
    const { body } = await h.graphql(`mutation ($id: ID!) { cancelJob(id: $id) { id status } }`, {
      key: owner.secret,
      variables: { id: job.id },
    });
    expect(body.data).toBeNull();
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
    expect(body.errors?.[0]?.message).toMatch(/already sent to Pixazo/);
    const done = await h.waitForTerminal(owner.secret, job.id as string);
    expect(done).toMatchObject({ status: 'COMPLETED', costUsd: 0.008 });
    expect(done.images).toHaveLength(1);
  });

  it('shows changes of the caller’s jobs on myJobs, and not those of others', async () => {
    const watcher = await h.createKey();
    // A long job (about 1 s at this time scale): someone else's job can run from start to
    // end while the subscription is live.
    const job = await generate(
      {
        prompt: 'watched',
        imageSize: 'SQUARE_1_1',
        model: 'Z_IMAGE_BASE',
        numInferenceSteps: 100,
        numImages: 2,
      },
      watcher.secret,
    );
    const seen: { id: string; status: string }[] = [];
    let live: () => void = () => {};
    const firstChange = new Promise<void>((resolve) => {
      live = resolve;
    });
    const watched = new Promise<void>((resolve, reject) => {
      const unsubscribe = h.wsClient(watcher.secret).subscribe(
        { query: 'subscription { myJobs { id status } }' },
        {
          next: (result) => {
            const changed = (result.data as { myJobs: { id: string; status: string } }).myJobs;
            seen.push(changed);
            live();
            if (changed.status === 'COMPLETED') {
              unsubscribe();
              resolve();
            }
          },
          error: reject,
          complete: () => {},
        },
      );
    });
    // Delivering a change proves the subscription live; the other job then ends while it is.
    await firstChange;
    const other = await generate({ prompt: 'not watched', imageSize: 'SQUARE_1_1' });
    await h.waitForTerminal(key, other.id);
    expect(seen.map((change) => change.status)).not.toContain('COMPLETED');
    await watched;
    expect(seen.every((change) => change.id === job.id)).toBe(true);
  });
});

describe('what the job shows', () => {
  it('gives every contract field', async () => {
    const job = await generate({
      prompt: 'every field',
      imageSize: 'PORTRAIT_9_16',
      model: 'Z_IMAGE_BASE',
      guidanceScale: 5.5,
      acceleration: 'FAST',
      outputFormat: 'JPEG',
    });
    const ended = await h.waitForTerminal(key, job.id);
    expect(ended).toMatchObject({
      status: 'COMPLETED',
      model: 'Z_IMAGE_BASE',
      guidanceScale: 5.5,
      acceleration: 'FAST',
      numInferenceSteps: 28,
      queuePosition: null,
      error: null,
      costUsd: 0.01,
    });
    expect(ended.startedAt).toEqual(expect.any(String));
  });
});

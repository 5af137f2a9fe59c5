import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PixazoClient } from '@zimage/core';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { JobRecord } from '../src/domain/job.ts';
import type { JobEngine } from '../src/jobs/engine.ts';
import type { JobEngineOptions } from '../src/jobs/job-engine.ts';
import { createMetrics, type Metrics } from '../src/metrics.ts';
import { topics } from '../src/pubsub/pubsub.ts';
import {
  type Harness,
  published,
  SIM_KEY,
  startHarness,
  waitForJob,
} from './helpers/engine-harness.ts';

/** What the gateway's /webhooks/pixazo/<jobId>/<token> route does: hand over to the engine. */
function startReceiver(engine: () => JobEngine) {
  const answers: { jobId: string; status: number; body: string }[] = [];
  const server: Server = createServer(async (req, res) => {
    const match = /^\/webhooks\/pixazo\/([^/]+)\/([^/]+)$/.exec(req.url ?? '');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    if (req.method !== 'POST' || !match) {
      res.writeHead(404).end();
      return;
    }
    const [, jobId = '', token = ''] = match;
    const { status } = await engine().handleWebhook(jobId, token, body);
    answers.push({ jobId, status, body });
    res.writeHead(status).end();
  });
  return {
    answers,
    async listen() {
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      return closed;
    },
  };
}

let h: Harness;
let receiver: ReturnType<typeof startReceiver>;
let engine: JobEngine;
/** X-Webhook-URL of every generate POST, as the gateway sent it. */
let callbackUrls: string[];
let metrics: Metrics;

async function startEngine(options: Partial<JobEngineOptions> = {}) {
  const publicUrl = await receiver.listen();
  const recording = new PixazoClient({
    apiKey: SIM_KEY,
    baseUrl: h.sim.url,
    fetch: (input, init) => {
      const headers = new Headers(init?.headers);
      const callback = headers.get('x-webhook-url');
      if (callback) callbackUrls.push(callback);
      return fetch(input, init);
    },
  });
  // The safety net stays out of the way unless a test wants it.
  engine = h.engine(
    { publicUrl, safetyNet: { firstDelayMs: 60_000 }, ...options },
    { pixazo: recording, metrics },
  );
  await engine.start();
  return publicUrl;
}

beforeEach(async () => {
  h = await startHarness();
  receiver = startReceiver(() => engine);
  callbackUrls = [];
  metrics = createMetrics();
});

afterEach(async () => {
  await h.close();
  await receiver.close();
});

const turbo = { prompt: 'a kite over the dunes', imageSize: 'landscape_4_3' } as const;

async function until(condition: () => boolean, what: string) {
  for (let i = 0; i < 400 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!condition()) throw new Error(`Timed out waiting for ${what}`);
}

it('completes a job from a confirmed callback; the URL carries a secret only its hash is kept of', async () => {
  const publicUrl = await startEngine();
  const principal = await h.principal();
  const queued = await engine.generate(principal, turbo);
  const job = await waitForJob(h, queued.id);
  await until(() => receiver.answers.length > 0, 'the callback answer');

  expect(job).toMatchObject({ status: 'COMPLETED' });
  expect(job.images).toHaveLength(1);
  expect(receiver.answers).toEqual([expect.objectContaining({ jobId: job.id, status: 200 })]);
  // One status GET: the confirmation of the callback. No polling.
  expect(h.sim.countRequests({ route: 'status' })).toBe(1);
  expect(await metrics.render()).toContain('zimage_job_updates_total{source="webhook"} 1');

  expect(callbackUrls).toHaveLength(1);
  const token = (callbackUrls[0] as string).slice(`${publicUrl}/webhooks/pixazo/${job.id}/`.length);
  expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(job.webhookTokenHash).toMatch(/^[0-9a-f]{64}$/);
  expect(JSON.stringify(job)).not.toContain(token);
});

it('rejects forged callbacks and trusts no callback without confirming it', async () => {
  const publicUrl = await startEngine();
  const principal = await h.principal();
  const long = { ...turbo, model: 'base', numInferenceSteps: 100 } as const;
  const queued = await engine.generate(principal, long);
  const running = await waitForJob(h, queued.id, (job) => job.submission === 'submitted');
  const url = callbackUrls[0] as string;
  const forged = JSON.stringify({
    request_id: running.requestId,
    status: 'COMPLETED',
    error: null,
    output: { media_url: ['https://evil.example/x.png'], media_type: 'image/png' },
  });
  const post = async (to: string, body: string) =>
    (await fetch(to, { method: 'POST', body, headers: { 'content-type': 'application/json' } }))
      .status;

  expect(await post(`${publicUrl}/webhooks/pixazo/${queued.id}/${'A'.repeat(43)}`, forged)).toBe(
    403,
  );
  expect(await post(`${publicUrl}/webhooks/pixazo/job_0000/${'A'.repeat(43)}`, forged)).toBe(404);
  expect(await post(url, 'not json')).toBe(400);
  expect(await post(url, forged.replace(running.requestId as string, 'z-image-base_other'))).toBe(
    400,
  );
  // The right token and a well-formed body, but Pixazo says the job is still running.
  expect(await post(url, forged)).toBe(200);
  const after = await h.store.getJob(queued.id);
  expect(after?.status === 'QUEUED' || after?.status === 'PROCESSING').toBe(true);
  expect(after?.images).toEqual([]);
  expect(h.sim.countRequests({ route: 'media' })).toBe(0);

  const done = await waitForJob(h, queued.id);
  expect(done.status).toBe('COMPLETED');
});

it('ignores duplicate and late callbacks', async () => {
  h.sim.setFaults({ webhookDuplicate: { next: 1, stale: true } });
  await startEngine();
  const principal = await h.principal();
  const controller = new AbortController();
  const events = await published(h.pubsub, topics.owner(principal.key.id), controller.signal);
  const seen: JobRecord[] = [];
  void (async () => {
    for await (const job of events) seen.push(job);
  })();

  const queued = await engine.generate(principal, turbo);
  const done = await waitForJob(h, queued.id);
  await until(() => receiver.answers.length === 3, 'the duplicate and the stale callback');
  controller.abort();

  expect(receiver.answers.map((a) => a.status)).toEqual([200, 200, 200]);
  expect(JSON.parse(receiver.answers[2]?.body as string).status).toBe('PROCESSING');
  const final = await h.store.getJob(queued.id);
  expect(final).toEqual(done);
  expect(seen.filter((job) => job.status === 'COMPLETED')).toHaveLength(1);
  expect(seen.at(-1)?.status).toBe('COMPLETED');
  expect(h.sim.countRequests({ route: 'media' })).toBe(1);
});

it('catches a lost callback with the safety-net poll', async () => {
  h.sim.setFaults({ webhookLost: { next: 1 } });
  await startEngine({ safetyNet: { firstDelayMs: 50, intervalMs: 50 } });
  const principal = await h.principal();
  const job = await waitForJob(h, (await engine.generate(principal, turbo)).id);
  expect(job.status).toBe('COMPLETED');
  expect(receiver.answers).toEqual([]);
  expect(h.sim.countRequests({ route: 'submit' })).toBe(1);
});

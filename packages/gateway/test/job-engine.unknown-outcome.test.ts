/**
 * Webhook mode: a generate POST whose outcome is unknown (its answer lost, timed out or a 5xx
 * after Pixazo took the job; a restart mid-POST) is never sent again. The job waits for the
 * callback its POST asked for: confirmed, it completes as usual; none by the deadline, it ends
 * ERROR with its charge kept. Callbacks arrive on the gateway's own webhook route.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PixazoClient, type PixazoClientOptions } from '@zimage/core';
import type { FaultsUpdate } from '@zimage/pixazo-sim';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { silentLogger } from '../src/domain/logger.ts';
import { createWebhookRoute } from '../src/http/webhook-route.ts';
import type { JobEngine } from '../src/jobs/engine.ts';
import type { JobEngineOptions } from '../src/jobs/job-engine.ts';
import { STOPPED_WHILE_SUBMITTING } from '../src/jobs/submitter.ts';
import { hashWebhookToken, newWebhookToken, webhookUrl } from '../src/jobs/webhook-token.ts';
import { createMetrics, type Metrics } from '../src/metrics.ts';
import { type Harness, SIM_KEY, startHarness, waitForJob } from './helpers/engine-harness.ts';

// Base jobs and callbacks within a test; the waits below time out first.
vi.setConfig({ testTimeout: 20_000 });

let h: Harness;
let engine: JobEngine;
let metrics: Metrics;
let server: Server;
let publicUrl: string;

beforeEach(async () => {
  h = await startHarness();
  metrics = createMetrics();
  server = createServer((req, res) => {
    const route = createWebhookRoute({ engine, metrics, logger: silentLogger });
    void route(req, res, new URL(req.url ?? '/', publicUrl).pathname);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  publicUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await h.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** About 720 ms at the simulator's time scale: it ends well after a lost answer is noticed. */
const base = {
  prompt: 'a lighthouse keeper',
  imageSize: 'square_1_1',
  model: 'base',
  numInferenceSteps: 100,
} as const;
const BASE_COST = 10_000;

function startEngine(
  options: Partial<JobEngineOptions> = {},
  client: Partial<PixazoClientOptions> = {},
) {
  const pixazo = new PixazoClient({ apiKey: SIM_KEY, baseUrl: h.sim.url, ...client });
  // No safety-net poll within a test: only a callback can reveal the request id anyway.
  engine = h.engine(
    { publicUrl, safetyNet: { firstDelayMs: 60_000 }, ...options },
    { pixazo, metrics },
  );
  return engine.start();
}

async function webhookAnswers(code: number): Promise<number> {
  const text = await metrics.render();
  return Number(
    new RegExp(`zimage_webhook_requests_total\\{code="${code}"\\} (\\d+)`).exec(text)?.[1] ?? 0,
  );
}

/**
 * What a gateway killed mid-POST leaves behind: the job 'submitting' with its token's hash
 * stored. `send()` is the POST Pixazo took, with the job's callback URL.
 */
async function leftSubmitting() {
  const principal = await h.principal();
  const crashed = h.engine({ publicUrl });
  const queued = await crashed.generate(principal, base);
  const token = newWebhookToken();
  await h.store.updateJob(queued.id, queued.version, {
    submission: 'submitting',
    webhookTokenHash: hashWebhookToken(token),
  });
  const send = async (input: Parameters<PixazoClient['submit']>[0] = base) =>
    (await h.pixazo.submit(input, { webhookUrl: webhookUrl(publicUrl, queued.id, token) }))
      .requestId;
  return { job: queued, send };
}

const lostAnswers: [string, FaultsUpdate, Partial<PixazoClientOptions>][] = [
  ['the connection was reset', { drop: { next: 1, route: 'submit' } }, {}],
  [
    'it timed out',
    { slow: { next: 1, route: 'submit', delayMs: 10_000 } },
    { requestTimeoutMs: 300 },
  ],
  [
    'a proxy answered 502',
    {},
    {
      async fetch(input, init) {
        const answer = await fetch(input, init);
        if (init?.method !== 'POST') return answer;
        await answer.body?.cancel();
        return new Response('Bad Gateway', { status: 502 });
      },
    },
  ],
];

it.each(lostAnswers)(
  'completes a job Pixazo took when its answer was lost (%s), by its callback, sent once',
  async (_, faults, client) => {
    h.sim.setFaults(faults);
    await startEngine({}, client);
    const queued = await engine.generate(await h.principal(), base);
    const job = await waitForJob(h, queued.id);

    expect(h.sim.countRequests({ route: 'submit' })).toBe(1);
    const [accepted] = h.sim.jobs();
    expect(job).toMatchObject({
      status: 'COMPLETED',
      submission: 'submitted',
      requestId: accepted?.request_id,
      error: null,
      costMicroUsd: BASE_COST,
    });
    expect(job.images).toHaveLength(1);
    expect(job.startedAt).not.toBeNull();
  },
);

it('completes a job by a callback that beats the answer of its POST, which changes nothing', async () => {
  h.sim.setFaults({ slow: { next: 1, route: 'submit', delayMs: 1000 } });
  await startEngine();
  const turbo = { prompt: 'a paper boat', imageSize: 'square_1_1' } as const;
  const queued = await engine.generate(await h.principal(), turbo);
  const job = await waitForJob(h, queued.id);
  expect(job).toMatchObject({ status: 'COMPLETED', requestId: h.sim.jobs()[0]?.request_id });
  expect(job.images).toHaveLength(1);

  // stop() waits for the POST in flight, whose 202 comes last.
  await engine.stop();
  expect(h.sim.requests({ route: 'submit' })).toEqual([expect.objectContaining({ status: 202 })]);
  expect(await h.store.getJob(queued.id)).toEqual(job);
});

it('after a restart mid-POST, waits for the callback and completes the job, sent once', async () => {
  const { job: queued, send } = await leftSubmitting();
  await startEngine();
  // Waiting honestly: still QUEUED, no error, no request id.
  expect(await h.store.getJob(queued.id)).toMatchObject({
    status: 'QUEUED',
    submission: 'submitting',
    requestId: null,
    error: null,
  });

  const requestId = await send();
  const job = await waitForJob(h, queued.id);
  expect(job).toMatchObject({
    status: 'COMPLETED',
    requestId,
    error: null,
    costMicroUsd: BASE_COST,
  });
  expect(job.images).toHaveLength(1);
  expect(h.sim.countRequests({ route: 'submit' })).toBe(1);
});

it('ends a job ERROR, charged, when Pixazo took it but no callback came by the deadline', async () => {
  h.sim.setFaults({ drop: { next: 1, route: 'submit' }, webhookLost: { next: 1 } });
  await startEngine({ deadline: { factor: 0, marginMs: 200 } });
  const job = await waitForJob(h, (await engine.generate(await h.principal(), base)).id);

  expect(job).toMatchObject({ status: 'ERROR', requestId: null, costMicroUsd: BASE_COST });
  expect(job.error).toBe(
    "The outcome of this job's submission to Pixazo is unknown and no callback came within 0 s; " +
      'it was not sent again to avoid paying twice (Pixazo may or may not have accepted it)',
  );
  expect(h.sim.countRequests({ route: 'submit' })).toBe(1);
  expect(h.sim.jobs()).toHaveLength(1);
});

it('after a restart mid-POST that Pixazo never took, ends the job ERROR at the deadline', async () => {
  const { job: queued } = await leftSubmitting();
  await startEngine({ deadline: { factor: 0, marginMs: 200 } });
  const job = await waitForJob(h, queued.id);
  expect(job).toMatchObject({ status: 'ERROR', costMicroUsd: BASE_COST });
  expect(job.error).toMatch(/no callback came within 0 s; it was not sent again/);
  expect(h.sim.countRequests({ route: 'submit' })).toBe(0);
});

it('trusts no callback whose confirmed request is of another model', async () => {
  const { job: queued, send } = await leftSubmitting();
  await startEngine();
  await send({ prompt: 'not this job', imageSize: 'square_1_1' });
  await vi.waitFor(async () => expect(await webhookAnswers(400)).toBeGreaterThan(0), {
    timeout: 15_000,
  });
  expect(await h.store.getJob(queued.id)).toMatchObject({
    status: 'QUEUED',
    submission: 'submitting',
    requestId: null,
  });
});

it('refuses to cancel a job waiting for its callback; the callback completes it with its images', async () => {
  const { job: queued, send } = await leftSubmitting();
  await startEngine();
  const refused = await engine.cancel(await h.principal({ scopes: ['admin'] }), queued.id).then(
    () => null,
    (error: unknown) => error,
  );
  expect(refused).toMatchObject({ code: 'BAD_USER_INPUT', extensions: { field: 'id' } });

  const requestId = await send();
  const job = await waitForJob(h, queued.id);
  expect(job).toMatchObject({ status: 'COMPLETED', requestId, costMicroUsd: BASE_COST });
  expect(job.images).toHaveLength(1);
});

it('in polling mode, a job caught mid-POST by a restart still ends ERROR at once', async () => {
  // Sent in webhook mode, restarted without PUBLIC_URL: no callback can reach it now.
  const { job: queued } = await leftSubmitting();
  await startEngine({ publicUrl: undefined });
  expect(await h.store.getJob(queued.id)).toMatchObject({
    status: 'ERROR',
    error: STOPPED_WHILE_SUBMITTING,
    costMicroUsd: BASE_COST,
  });
});

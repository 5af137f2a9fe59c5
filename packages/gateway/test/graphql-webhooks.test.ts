/**
 * Webhook mode through the whole gateway: PUBLIC_URL set, Pixazo (the simulator) calls back
 * on the gateway's own /webhooks/pixazo/<jobId>/<token> route, and those callbacks, not
 * polling, end the jobs. Forged, duplicate and late callbacks change nothing, and a wrong token
 * is answered as an unknown job is.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  collect,
  freePort,
  type GatewayHarness,
  GENERATE,
  JOB_UPDATED,
  startGatewayHarness,
} from './helpers/gateway-harness.ts';

/** A gateway in webhook mode: PUBLIC_URL is its own address, known before it listens. */
async function startWebhookGateway(
  options: Parameters<typeof startGatewayHarness>[0] = {},
): Promise<GatewayHarness> {
  const port = await freePort();
  return startGatewayHarness({ port, publicUrl: `http://127.0.0.1:${port}`, ...options });
}

let h: GatewayHarness;
let key: string;

beforeAll(async () => {
  h = await startWebhookGateway({
    // Status reads (until PROCESSING, and the safety net) only after a minute: within these
    // tests, callbacks must do the work.
    engine: {
      pollSchedule: { firstDelayMs: 60_000, maxIntervalMs: 60_000 },
      safetyNet: { firstDelayMs: 60_000, intervalMs: 60_000 },
    },
  });
  key = (await h.createKey()).secret;
});
afterAll(() => h.close());

async function generate(prompt: string): Promise<string> {
  const { body } = await h.graphql(GENERATE, {
    key,
    variables: { input: { prompt, imageSize: 'SQUARE_1_1' } },
  });
  return (body.data as { generateImage: { id: string } }).generateImage.id;
}

async function webhookUpdates(): Promise<number> {
  const metrics = await (await fetch(`${h.gateway.url}/metrics`)).text();
  return Number(/zimage_job_updates_total\{source="webhook"\} (\d+)/.exec(metrics)?.[1] ?? 0);
}

it('ends jobs by Pixazo callbacks, each confirmed by one status read', async () => {
  const before = await webhookUpdates();
  const id = await generate('called back');
  const job = await h.waitForTerminal(key, id);
  expect(job.status).toBe('COMPLETED');
  expect(await webhookUpdates()).toBeGreaterThan(before);
  // One confirming GET for the one callback; no polling.
  const requestId = job.requestId as string;
  expect(h.sim.countRequests({ route: 'status', path: `/v2/requests/status/${requestId}` })).toBe(
    1,
  );
});

it('refuses a forged callback and ignores duplicate and late ones', async () => {
  h.sim.setFaults({ webhookDuplicate: { next: 1, stale: true } });
  const id = await generate('called back twice');
  const job = await h.waitForTerminal(key, id);
  expect(job.status).toBe('COMPLETED');

  const forged = await fetch(`${h.gateway.url}/webhooks/pixazo/${id}/not-the-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ request_id: job.requestId, status: 'ERROR', error: 'forged' }),
  });
  expect(forged.status).toBe(404);

  // The gateway's webhook route answers once it has handled a callback, so three answered
  // deliveries mean the duplicate and the late PROCESSING body have both been dealt with.
  const handled = await h.sim.waitForWebhookDeliveries(3, { requestId: job.requestId as string });
  expect(handled.map((d) => [d.jobStatus, d.status])).toEqual([
    ['COMPLETED', 200],
    ['COMPLETED', 200],
    ['PROCESSING', 200],
  ]);
  expect(await h.job(key, id)).toEqual(job);
});

it('answers a wrong token exactly as it answers an unknown job', async () => {
  const id = await generate('a job that exists');
  const job = await h.waitForTerminal(key, id);
  const answer = async (jobId: string) => {
    const response = await fetch(`${h.gateway.url}/webhooks/pixazo/${jobId}/${'A'.repeat(43)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ request_id: job.requestId, status: 'COMPLETED', error: null }),
    });
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      body: await response.text(),
    };
  };

  const wrongToken = await answer(id);
  expect(wrongToken.status).toBe(404);
  expect(await answer('job_0197ffffffff7fffbfffffffffffffff')).toEqual(wrongToken);
});

it('shows subscribers PROCESSING while Pixazo runs the job, though Pixazo calls back only at the end', async () => {
  // The harness's test poll schedule; a job of about 0.7 s, most of it PROCESSING.
  const own = await startWebhookGateway();
  try {
    const { secret } = await own.createKey();
    const { body } = await own.graphql(GENERATE, {
      key: secret,
      variables: {
        input: {
          prompt: 'watched while running',
          imageSize: 'SQUARE_1_1',
          model: 'Z_IMAGE_BASE',
          numInferenceSteps: 100,
        },
      },
    });
    const { id } = (body.data as { generateImage: { id: string } }).generateImage;
    const results = await collect(own.wsClient(secret), JOB_UPDATED, { id });
    const statuses = results.map(
      (result) => (result.data as { jobUpdated: { status: string } }).jobUpdated.status,
    );
    const changes = statuses.filter((status, i) => status !== statuses[i - 1]);
    expect(changes.slice(-2)).toEqual(['PROCESSING', 'COMPLETED']);
  } finally {
    await own.close();
  }
});

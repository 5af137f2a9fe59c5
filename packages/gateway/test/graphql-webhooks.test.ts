/**
 * Webhook mode through the whole gateway: PUBLIC_URL set, Pixazo (the simulator) calls back
 * on the gateway's own /webhooks/pixazo/<jobId>/<token> route, and those callbacks, not
 * polling, end the jobs. Forged, duplicate and late callbacks change nothing.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type GatewayHarness, GENERATE, startGatewayHarness } from './helpers/gateway-harness.ts';

/** A free loopback port, so PUBLIC_URL can be known before the gateway listens. */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let h: GatewayHarness;
let key: string;

beforeAll(async () => {
  const port = await freePort();
  h = await startGatewayHarness({
    port,
    publicUrl: `http://127.0.0.1:${port}`,
    // The safety-net poll only after a minute: within this test, callbacks must do the work.
    engine: { safetyNet: { firstDelayMs: 60_000, intervalMs: 60_000 } },
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
  expect(forged.status).toBe(403);

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

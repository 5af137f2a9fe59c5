import { describe, expect, it } from 'vitest';
import { keyFingerprint } from '../src/index.ts';
import {
  getStatus,
  KEY,
  KEY_HEADER,
  SEED_TURBO_FULL_EXAMPLE,
  startReceiver,
  startSim,
  submit,
  submitOk,
} from './helpers.ts';

async function control(base: string, method: string, path: string, init: RequestInit = {}) {
  const response = await fetch(`${base}/_sim/${path}`, { method, ...init });
  return { status: response.status, body: await response.json() };
}

const jsonBody = (value: unknown): RequestInit => ({
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(value),
});

describe('/_sim/ control endpoints', () => {
  it('GET health', async () => {
    const sim = await startSim();
    await submitOk(sim, SEED_TURBO_FULL_EXAMPLE);
    expect(await control(sim.url, 'GET', 'health')).toEqual({
      status: 200,
      body: { ok: true, jobs: 1 },
    });
  });

  it('GET requests counts what clients sent, filtered, with keys fingerprinted', async () => {
    const sim = await startSim();
    const { request_id } = await submitOk(sim, SEED_TURBO_FULL_EXAMPLE);
    await submit(sim, SEED_TURBO_FULL_EXAMPLE, { key: null });
    await getStatus(sim, request_id);
    await control(sim.url, 'GET', 'health');

    const all = await control(sim.url, 'GET', 'requests');
    expect(all.body.count).toBe(3);
    expect(JSON.stringify(all.body)).not.toContain(KEY);

    const posts = await control(sim.url, 'GET', 'requests?method=post&route=submit');
    expect(posts.body.count).toBe(2);
    expect(posts.body.requests).toMatchObject([
      { method: 'POST', keyId: keyFingerprint(KEY), status: 202, dropped: false },
      { method: 'POST', keyId: null, status: 401 },
    ]);
    const accepted = await control(sim.url, 'GET', 'requests?status=202');
    expect(accepted.body.count).toBe(1);
    expect(sim.countRequests({ route: 'status' })).toBe(1);

    expect((await control(sim.url, 'GET', 'requests?colour=red')).status).toBe(400);
    expect((await control(sim.url, 'DELETE', 'requests')).status).toBe(200);
    expect(sim.countRequests()).toBe(0);
  });

  it('GET webhooks lists delivery attempts, filtered; DELETE clears them', async () => {
    const sim = await startSim({ faults: { webhookDuplicate: { next: 1, stale: true } } });
    const receiver = await startReceiver();
    const { request_id } = await submitOk(sim, SEED_TURBO_FULL_EXAMPLE, {
      headers: { 'X-Webhook-URL': receiver.url },
    });
    await sim.waitForWebhookDeliveries(3);

    const all = await control(sim.url, 'GET', 'webhooks');
    expect(all.body.count).toBe(3);
    expect(all.body.deliveries[0]).toEqual({
      at: expect.any(String),
      requestId: request_id,
      jobStatus: 'COMPLETED',
      attempt: 1,
      origin: new URL(receiver.url).origin,
      status: 200,
      error: null,
    });
    const stale = await control(
      sim.url,
      'GET',
      `webhooks?request_id=${request_id}&job_status=PROCESSING`,
    );
    expect(stale.body.deliveries).toMatchObject([{ jobStatus: 'PROCESSING', status: 200 }]);
    expect((await control(sim.url, 'GET', 'webhooks?status=200&attempt=1')).body.count).toBe(3);

    expect((await control(sim.url, 'GET', 'webhooks?job_status=DONE')).status).toBe(400);
    expect((await control(sim.url, 'DELETE', 'webhooks')).status).toBe(200);
    expect(sim.webhookDeliveries()).toEqual([]);
  });

  it('PUT, GET and DELETE faults', async () => {
    const sim = await startSim();
    const put = await control(sim.url, 'PUT', 'faults', jsonBody({ serverError: { next: 1 } }));
    expect(put).toEqual({ status: 200, body: { serverError: { next: 1 } } });
    expect((await submit(sim, SEED_TURBO_FULL_EXAMPLE)).status).toBe(500);
    expect((await control(sim.url, 'GET', 'faults')).body).toEqual({ serverError: { next: 0 } });
    expect((await control(sim.url, 'DELETE', 'faults')).body).toEqual({});
    expect(sim.faults()).toEqual({});
  });

  it('PUT faults rejects unknown faults and bad values, naming them', async () => {
    const sim = await startSim();
    const unknown = await control(sim.url, 'PUT', 'faults', jsonBody({ meteor: { next: 1 } }));
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toContain('meteor');
    const bad = await control(sim.url, 'PUT', 'faults', jsonBody({ drop: { next: -1 } }));
    expect(bad).toMatchObject({
      status: 400,
      body: { message: expect.stringContaining('drop.next') },
    });
    const notJson = await control(sim.url, 'PUT', 'faults', { body: 'nope' });
    expect(notJson.status).toBe(400);
    expect(sim.faults()).toEqual({});
  });

  it('GET and PUT balance, for the key in the header', async () => {
    const sim = await startSim();
    const headers = { [KEY_HEADER]: KEY };
    expect((await control(sim.url, 'GET', 'balance', { headers })).body).toEqual({
      balance_usd: 5,
    });
    const set = await control(sim.url, 'PUT', 'balance', {
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ balance_usd: 0 }),
    });
    expect(set).toEqual({ status: 200, body: { balance_usd: 0 } });
    expect((await submit(sim, SEED_TURBO_FULL_EXAMPLE)).status).toBe(402);
    const unknown = await control(sim.url, 'GET', 'balance', { headers: { [KEY_HEADER]: 'x' } });
    expect(unknown.status).toBe(404);
    expect((await control(sim.url, 'GET', 'balance')).status).toBe(400);
  });

  it('GET jobs and jobs/{id} show the simulator’s decisions', async () => {
    const sim = await startSim({ faults: { jobFailed: { next: 1 } } });
    const { request_id } = await submitOk(sim, SEED_TURBO_FULL_EXAMPLE);
    const list = await control(sim.url, 'GET', 'jobs');
    expect(list.body.jobs).toMatchObject([{ request_id, outcome: 'FAILED', cost_usd: 0.008 }]);
    const one = await control(sim.url, 'GET', `jobs/${request_id}`);
    expect(one.body).toMatchObject({ request_id, model_id: 'z-image-turbo-834', vanished: false });
    expect((await control(sim.url, 'GET', 'jobs/unknown')).status).toBe(404);
  });

  it('POST reset restores the state at start', async () => {
    const sim = await startSim({ keys: { [KEY]: 1 } });
    const receiver = await startReceiver();
    await submitOk(sim, SEED_TURBO_FULL_EXAMPLE, { headers: { 'X-Webhook-URL': receiver.url } });
    await sim.waitForWebhookDeliveries(1);
    sim.setBalance('extra', 3);
    sim.setFaults({ serverError: { probability: 1 } });
    expect(await control(sim.url, 'POST', 'reset')).toEqual({ status: 200, body: { ok: true } });
    expect(sim.jobs()).toEqual([]);
    expect(sim.faults()).toEqual({});
    expect(sim.countRequests()).toBe(0);
    expect(sim.webhookDeliveries()).toEqual([]);
    expect(sim.balanceOf(KEY)).toBe(1);
    expect(sim.balanceOf('extra')).toBeUndefined();
  });

  it('answers 404 for unknown control paths, and for all of them when disabled', async () => {
    const sim = await startSim();
    expect((await control(sim.url, 'GET', 'nothing')).status).toBe(404);
    const closed = await startSim({ controlEndpoints: false });
    expect(await control(closed.url, 'GET', 'health')).toEqual({
      status: 404,
      body: { statusCode: 404, message: 'Resource not found' },
    });
  });
});

import { describe, expect, it } from 'vitest';
import type { StatusBody } from '../src/index.ts';
import {
  finalStatus,
  getStatus,
  SEED_TURBO_FULL_EXAMPLE,
  startReceiver,
  startSim,
  submitOk,
} from './helpers.ts';

const withWebhook = (url: string) => ({ headers: { 'X-Webhook-URL': url } });

describe('webhooks', () => {
  it('POSTs the terminal status body, the same as the status GET answers', async () => {
    const sim = await startSim();
    const receiver = await startReceiver();
    const { request_id } = await submitOk(sim, SEED_TURBO_FULL_EXAMPLE, withWebhook(receiver.url));
    await sim.waitForWebhookDeliveries(1);

    const polled = await (await getStatus(sim, request_id)).json();
    expect(receiver.received[0]?.contentType).toBe('application/json');
    expect(receiver.received[0]?.body).toEqual(polled);
    expect(polled).toMatchObject({ request_id, status: 'COMPLETED' });
  });

  it('logs each attempt with the receiver’s answer, never the callback path', async () => {
    const sim = await startSim();
    const receiver = await startReceiver((n) => (n === 0 ? 503 : 200));
    const { request_id } = await submitOk(sim, SEED_TURBO_FULL_EXAMPLE, withWebhook(receiver.url));
    await sim.waitForWebhookDeliveries(1, { status: 200 });

    const origin = new URL(receiver.url).origin;
    expect(sim.webhookDeliveries()).toEqual([
      expect.objectContaining({ requestId: request_id, jobStatus: 'COMPLETED', attempt: 1 }),
      expect.objectContaining({ requestId: request_id, jobStatus: 'COMPLETED', attempt: 2 }),
    ]);
    expect(sim.webhookDeliveries().map((d) => [d.origin, d.status, d.error])).toEqual([
      [origin, 503, null],
      [origin, 200, null],
    ]);
    expect(JSON.stringify(sim.webhookDeliveries())).not.toContain('/webhook/callback');
    sim.clearWebhookDeliveries();
    expect(sim.webhookDeliveries()).toEqual([]);
  });

  it('logs a receiver that cannot be reached, with the reason', async () => {
    const sim = await startSim();
    const receiver = await startReceiver();
    await receiver.close();
    await submitOk(sim, SEED_TURBO_FULL_EXAMPLE, withWebhook(receiver.url));
    const [first] = await sim.waitForWebhookDeliveries(1);
    expect(first).toMatchObject({ attempt: 1, status: null, error: 'ECONNREFUSED' });
  });

  it('sends FAILED and ERROR ends too', async () => {
    const sim = await startSim();
    const receiver = await startReceiver();
    for (const marker of ['[sim:fail]', '[sim:error]']) {
      const body = { ...SEED_TURBO_FULL_EXAMPLE, prompt: `a cat ${marker}` };
      await submitOk(sim, body, withWebhook(receiver.url));
    }
    await sim.waitForWebhookDeliveries(2);
    const statuses = receiver.received.map((r) => (r.body as StatusBody).status);
    expect(statuses.sort()).toEqual(['ERROR', 'FAILED']);
  });

  it('retries a delivery the receiver did not accept', async () => {
    const sim = await startSim();
    const receiver = await startReceiver((n) => (n === 0 ? 503 : 200));
    await submitOk(sim, SEED_TURBO_FULL_EXAMPLE, withWebhook(receiver.url));
    await sim.waitForWebhookDeliveries(2);
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[1]?.body).toEqual(receiver.received[0]?.body);
  });

  it('webhookLost: sends nothing for that job, and normally for the next', async () => {
    const sim = await startSim({ faults: { webhookLost: { next: 1 } } });
    const receiver = await startReceiver();
    const lost = await submitOk(sim, SEED_TURBO_FULL_EXAMPLE, withWebhook(receiver.url));
    await finalStatus(sim, lost.request_id);
    const kept = await submitOk(sim, SEED_TURBO_FULL_EXAMPLE, withWebhook(receiver.url));
    // The kept job ends after the lost one: a delivery for the lost one would have come first.
    await sim.waitForWebhookDeliveries(1, { requestId: kept.request_id });
    expect(receiver.received.map((r) => (r.body as StatusBody).request_id)).toEqual([
      kept.request_id,
    ]);
    expect(sim.webhookDeliveries({ requestId: lost.request_id })).toEqual([]);
  });

  it('webhookDuplicate: sends the same body twice', async () => {
    const sim = await startSim({ faults: { webhookDuplicate: { next: 1 } } });
    const receiver = await startReceiver();
    await submitOk(sim, SEED_TURBO_FULL_EXAMPLE, withWebhook(receiver.url));
    await sim.waitForWebhookDeliveries(2);
    expect(receiver.received[0]?.body).toMatchObject({ status: 'COMPLETED' });
    expect(receiver.received[1]?.body).toEqual(receiver.received[0]?.body);
  });

  it('webhookDuplicate with stale: a PROCESSING body arrives after the terminal ones', async () => {
    const sim = await startSim({ faults: { webhookDuplicate: { next: 1, stale: true } } });
    const receiver = await startReceiver();
    await submitOk(sim, SEED_TURBO_FULL_EXAMPLE, withWebhook(receiver.url));
    const deliveries = await sim.waitForWebhookDeliveries(3);
    expect(deliveries.map((d) => [d.jobStatus, d.status])).toEqual([
      ['COMPLETED', 200],
      ['COMPLETED', 200],
      ['PROCESSING', 200],
    ]);
    const [first, second, stale] = receiver.received.map((r) => r.body as StatusBody);
    expect(second).toEqual(first);
    expect(first?.status).toBe('COMPLETED');
    expect(stale).toMatchObject({ status: 'PROCESSING', output: null, completed_at: null });
    expect(Date.parse(stale?.updated_at ?? '')).toBeLessThan(Date.parse(first?.updated_at ?? ''));
  });

  it('sends nothing for a vanished job', async () => {
    const sim = await startSim({ faults: { vanish: { next: 1 } } });
    const receiver = await startReceiver();
    const vanished = await submitOk(sim, SEED_TURBO_FULL_EXAMPLE, withWebhook(receiver.url));
    // Three times as long, so it ends after the vanished one: its delivery is the evidence
    // that a delivery for the vanished one would have come by now.
    const longer = { ...SEED_TURBO_FULL_EXAMPLE, num_inference_steps: 30 };
    const kept = await submitOk(sim, longer, withWebhook(receiver.url));
    await sim.waitForWebhookDeliveries(1, { requestId: kept.request_id });
    expect(sim.job(vanished.request_id)?.status).toBe('COMPLETED');
    expect(receiver.received.map((r) => (r.body as StatusBody).request_id)).toEqual([
      kept.request_id,
    ]);
  });
});

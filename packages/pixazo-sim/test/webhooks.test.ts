import { describe, expect, it } from 'vitest';
import type { StatusBody } from '../src/index.ts';
import {
  finalStatus,
  getStatus,
  pollUntil,
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
    await pollUntil(
      () => receiver.received.length,
      (n) => n === 1,
    );

    const polled = await (await getStatus(sim, request_id)).json();
    expect(receiver.received[0]?.contentType).toBe('application/json');
    expect(receiver.received[0]?.body).toEqual(polled);
    expect(polled).toMatchObject({ request_id, status: 'COMPLETED' });
  });

  it('sends FAILED and ERROR ends too', async () => {
    const sim = await startSim();
    const receiver = await startReceiver();
    for (const marker of ['[sim:fail]', '[sim:error]']) {
      const body = { ...SEED_TURBO_FULL_EXAMPLE, prompt: `a cat ${marker}` };
      await submitOk(sim, body, withWebhook(receiver.url));
    }
    await pollUntil(
      () => receiver.received.length,
      (n) => n === 2,
    );
    const statuses = receiver.received.map((r) => (r.body as StatusBody).status);
    expect(statuses.sort()).toEqual(['ERROR', 'FAILED']);
  });

  it('retries a delivery the receiver did not accept', async () => {
    const sim = await startSim();
    const receiver = await startReceiver((n) => (n === 0 ? 503 : 200));
    await submitOk(sim, SEED_TURBO_FULL_EXAMPLE, withWebhook(receiver.url));
    await pollUntil(
      () => receiver.received.length,
      (n) => n === 2,
    );
    expect(receiver.received[1]?.body).toEqual(receiver.received[0]?.body);
  });

  it('webhookLost: sends nothing for that job, and normally for the next', async () => {
    const sim = await startSim({ faults: { webhookLost: { next: 1 } } });
    const receiver = await startReceiver();
    const lost = await submitOk(sim, SEED_TURBO_FULL_EXAMPLE, withWebhook(receiver.url));
    await finalStatus(sim, lost.request_id);
    const kept = await submitOk(sim, SEED_TURBO_FULL_EXAMPLE, withWebhook(receiver.url));
    await pollUntil(
      () => receiver.received.length,
      (n) => n >= 1,
    );
    await finalStatus(sim, kept.request_id);
    expect(receiver.received.map((r) => (r.body as StatusBody).request_id)).toEqual([
      kept.request_id,
    ]);
  });

  it('webhookDuplicate: sends the same body twice', async () => {
    const sim = await startSim({ faults: { webhookDuplicate: { next: 1 } } });
    const receiver = await startReceiver();
    await submitOk(sim, SEED_TURBO_FULL_EXAMPLE, withWebhook(receiver.url));
    await pollUntil(
      () => receiver.received.length,
      (n) => n === 2,
    );
    expect(receiver.received[0]?.body).toMatchObject({ status: 'COMPLETED' });
    expect(receiver.received[1]?.body).toEqual(receiver.received[0]?.body);
  });

  it('webhookDuplicate with stale: a PROCESSING body arrives after the terminal ones', async () => {
    const sim = await startSim({ faults: { webhookDuplicate: { next: 1, stale: true } } });
    const receiver = await startReceiver();
    await submitOk(sim, SEED_TURBO_FULL_EXAMPLE, withWebhook(receiver.url));
    await pollUntil(
      () => receiver.received.length,
      (n) => n === 3,
    );
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
    await pollUntil(
      () => sim.job(vanished.request_id)?.status,
      (s) => s === 'COMPLETED',
    );
    const kept = await submitOk(sim, SEED_TURBO_FULL_EXAMPLE, withWebhook(receiver.url));
    await pollUntil(
      () => receiver.received.length,
      (n) => n >= 1,
    );
    expect(receiver.received.map((r) => (r.body as StatusBody).request_id)).toEqual([
      kept.request_id,
    ]);
  });
});

/**
 * Outbound webhooks with three gateways on one PostgreSQL database: every worker polls the one
 * outbox, and each delivery (first attempt and retry) is sent by exactly one of them.
 */
import { randomBytes } from 'node:crypto';
import type { PixazoSim } from '@zimage/pixazo-sim';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type GatewayHarness,
  GENERATE,
  startGatewayHarness,
  startTestSim,
} from './helpers/gateway-harness.ts';
import { usePostgresDatabase } from './helpers/postgres.ts';
import { startWebhookReceiver, type WebhookReceiver } from './helpers/webhook-receiver.ts';

const database = usePostgresDatabase();
const INSTANCES = 3;
const JOBS = 9;

let sim: PixazoSim;
let gateways: GatewayHarness[] = [];
let hook: WebhookReceiver;
/** Requests per webhook-id: the first of each is answered 500, so each is retried once. */
const seen = new Map<string, number>();

beforeAll(async () => {
  sim = await startTestSim();
  hook = await startWebhookReceiver((_n, request) => {
    const id = String(request.headers['webhook-id']);
    seen.set(id, (seen.get(id) ?? 0) + 1);
    return seen.get(id) === 1 ? 500 : 204;
  });
  const url = await database.freshSchema();
  // Instances sharing a database share the key that seals the signing secrets.
  const secretsKey = randomBytes(32).toString('base64');
  const webhooks = { allowPrivateAddresses: true, retrySeconds: [0.05], pollMs: 10, secretsKey };
  for (let i = 0; i < INSTANCES; i++) {
    gateways.push(await startGatewayHarness({ sharedSim: sim, databaseUrl: url, webhooks }));
  }
});

afterAll(async () => {
  for (const gateway of gateways) await gateway.close();
  gateways = [];
  await hook?.close();
  await sim?.close();
});

describe('outbound webhooks on PostgreSQL, three instances', () => {
  it('sends each attempt of each delivery from exactly one instance', async () => {
    const [first] = gateways as [GatewayHarness];
    const { secret } = await first.createKey();
    const jobIds: string[] = [];
    for (let i = 0; i < JOBS; i++) {
      const gateway = gateways[i % INSTANCES] as GatewayHarness;
      const { body } = await gateway.graphql(GENERATE, {
        key: secret,
        variables: { input: { prompt: `job ${i}`, imageSize: 'SQUARE_1_1', webhookUrl: hook.url } },
      });
      jobIds.push((body.data as { generateImage: { id: string } }).generateImage.id);
    }

    await hook.waitFor(2 * JOBS);
    await vi.waitFor(
      async () => expect(await first.gateway.store.countWebhookDeliveriesQueued()).toBe(0),
      { timeout: 20_000, interval: 25 },
    );
    expect(hook.received).toHaveLength(2 * JOBS);
    expect([...seen.values()]).toEqual(Array(JOBS).fill(2));
    for (const id of jobIds) {
      const attempts = await first.gateway.store.listWebhookAttempts(id);
      expect(attempts.map((a) => [a.attempt, a.statusCode])).toEqual([
        [1, 500],
        [2, 204],
      ]);
    }
  });
});

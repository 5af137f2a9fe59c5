/**
 * Outbound webhooks survive a crash: the gateway process is killed (SIGKILL, no shutdown) with
 * a retry planned, and the next process on the same data sends it, with the same webhook-id and
 * a signature the secret read from the first process verifies. The settings come from the
 * environment, as `pnpm start` reads them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import {
  gatewayStarted,
  type RunningProcess,
  SIM_MAIN,
  startProcess,
  stopProcess,
} from './helpers/processes.ts';
import {
  startWebhookReceiver,
  type WebhookReceiver,
  webhookHeaders,
} from './helpers/webhook-receiver.ts';

const ADMIN_KEY = 'zk_webhooks-process-test-admin-key-01';
let dataDir: string;
let sim: RunningProcess;
let simUrl: string;
let hook: WebhookReceiver;
const timeline: string[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'zimage-webhooks-restart-'));
  sim = startProcess(SIM_MAIN, {
    PIXAZO_SIM_PORT: '0',
    PIXAZO_SIM_KEYS: 'webhooks-key=5',
    PIXAZO_SIM_TIME_SCALE: '0.01',
  });
  simUrl = await sim.printed(/listening on (http:\/\/\S+)/);
  hook = await startWebhookReceiver((n) => {
    timeline.push(`request ${n}`);
    return n === 1 ? 503 : 204;
  });
});
afterAll(async () => {
  await hook?.close();
  await stopProcess(sim.child);
  await rm(dataDir, { recursive: true, force: true });
});

function startGatewayProcess() {
  return startProcess('src/main.ts', {
    PORT: '0',
    DATA_DIR: dataDir,
    PIXAZO_API_KEY: 'webhooks-key',
    PIXAZO_BASE_URL: simUrl,
    ADMIN_API_KEY: ADMIN_KEY,
    WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true',
    // Long enough that the first process is dead before the retry is due.
    WEBHOOK_RETRY_SECONDS: '3',
  });
}

async function graphql(url: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
    body: JSON.stringify({ query, variables }),
  });
  return ((await response.json()) as { data: Record<string, unknown> }).data;
}

const DELIVERIES =
  'query ($id: ID!) { job(id: $id) { webhookDeliveries { id attempt statusCode nextAttemptAt } } }';

async function deliveries(url: string, id: string) {
  const data = await graphql(url, DELIVERIES, { id });
  return (data.job as { webhookDeliveries: Record<string, unknown>[] }).webhookDeliveries;
}

it('sends the retry a killed gateway process had planned', async () => {
  const first = startGatewayProcess();
  const firstUrl = await gatewayStarted(first);
  const { webhookSigningSecret } = (await graphql(firstUrl, '{ webhookSigningSecret }')) as {
    webhookSigningSecret: string;
  };
  const { generateImage } = (await graphql(
    firstUrl,
    'mutation ($input: GenerateImageInput!) { generateImage(input: $input) { id } }',
    { input: { prompt: 'a lighthouse', imageSize: 'SQUARE_1_1', webhookUrl: hook.url } },
  )) as { generateImage: { id: string } };
  const id = generateImage.id;
  await hook.waitFor(1);
  const [failed] = await vi.waitFor(
    async () => {
      const list = await deliveries(firstUrl, id);
      if (list.length === 0) throw new Error('attempt not recorded yet');
      return list;
    },
    { timeout: 20_000, interval: 25 },
  );
  expect(failed).toMatchObject({ attempt: 1, statusCode: 503, nextAttemptAt: expect.any(String) });
  expect(await stopProcess(first.child, 'SIGKILL')).toBeNull();
  timeline.push('killed');

  const second = startGatewayProcess();
  try {
    const secondUrl = await gatewayStarted(second);
    const [, retried] = await hook.waitFor(2);
    expect(timeline).toEqual(['request 1', 'killed', 'request 2']);
    expect(retried?.headers['webhook-id']).toBe(failed?.id);
    const payload = new Webhook(webhookSigningSecret).verify(
      retried?.body ?? '',
      webhookHeaders(retried as NonNullable<typeof retried>),
    ) as { type: string; data: { id: string } };
    expect(payload).toMatchObject({ type: 'job.completed', data: { id } });
    const list = await vi.waitFor(
      async () => {
        const all = await deliveries(secondUrl, id);
        if (all.length < 2) throw new Error('retry not recorded yet');
        return all;
      },
      { timeout: 20_000, interval: 25 },
    );
    expect(list[1]).toMatchObject({
      id: failed?.id,
      attempt: 2,
      statusCode: 204,
      nextAttemptAt: null,
    });
  } finally {
    await stopProcess(second.child);
  }
}, 60_000);

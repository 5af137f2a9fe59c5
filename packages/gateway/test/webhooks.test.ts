/**
 * Outbound webhooks end to end: a real gateway (SQLite), the simulator as Pixazo, and a real
 * receiver on loopback that verifies what it gets with the Standard Webhooks reference library.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NO_LIMITS } from '../src/auth/api-keys.ts';
import { createLogger } from '../src/logger.ts';
import { SEALING_KEY_FILE } from '../src/webhooks/signing-secrets.ts';
import { DAY, newJob } from './fixtures/records.ts';
import {
  freePort,
  type GatewayHarness,
  GENERATE,
  type GraphqlRequest,
  startGatewayHarness,
} from './helpers/gateway-harness.ts';
import {
  type ReceivedWebhook,
  startWebhookReceiver,
  webhookHeaders,
} from './helpers/webhook-receiver.ts';

const DELIVERIES = `query ($id: ID!) { job(id: $id) { id status webhookDeliveries {
  id event attempt at statusCode error nextAttemptAt } } }`;

/** Fast retries and polls for tests on loopback receivers. */
const LOOPBACK = { allowPrivateAddresses: true, retrySeconds: [0.05, 0.05], pollMs: 20 };

/** An upper bound for a loaded machine (vi.waitFor's default is 1 s); passing tests never near it. */
const UNTIL_RECORDED = { timeout: 20_000, interval: 25 };

interface Delivery {
  id: string;
  event: string;
  attempt: number;
  statusCode: number | null;
  error: string | null;
  nextAttemptAt: string | null;
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function harness(options: Parameters<typeof startGatewayHarness>[0] = {}) {
  const started = await startGatewayHarness({ webhooks: LOOPBACK, ...options });
  cleanup.push(() => started.close());
  return started;
}

async function receiver(answer?: (n: number) => number | null, port?: number) {
  const started = await startWebhookReceiver(answer, port);
  cleanup.push(() => started.close());
  return started;
}

async function generate(
  h: GatewayHarness,
  key: string,
  input: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const { body } = await h.graphql(GENERATE, {
    key,
    variables: { input: { prompt: 'a lighthouse', imageSize: 'SQUARE_1_1', ...input } },
  });
  const job = body.data?.generateImage as Record<string, unknown> | undefined;
  if (!job) throw new Error(`generateImage failed: ${JSON.stringify(body.errors)}`);
  return job;
}

async function secretOf(h: GatewayHarness, key: string): Promise<string> {
  const { body } = await h.graphql('{ webhookSigningSecret }', { key });
  return body.data?.webhookSigningSecret as string;
}

async function deliveries(h: GatewayHarness, key: string, id: string): Promise<Delivery[]> {
  const { body } = await h.graphql(DELIVERIES, { key, variables: { id } });
  return (body.data as { job: { webhookDeliveries: Delivery[] } }).job.webhookDeliveries;
}

/** The deliveries once `done` holds for them (they are recorded just after the receiver answers). */
function deliveriesWhen(
  h: GatewayHarness,
  key: string,
  id: string,
  done: (list: Delivery[]) => boolean,
): Promise<Delivery[]> {
  return vi.waitFor(async () => {
    const list = await deliveries(h, key, id);
    if (!done(list)) throw new Error(`deliveries so far: ${JSON.stringify(list)}`);
    return list;
  }, UNTIL_RECORDED);
}

type Payload = { type: string; timestamp: string; data: Record<string, unknown> };

const verify = (secret: string, request: ReceivedWebhook): Payload =>
  new Webhook(secret).verify(request.body, webhookHeaders(request)) as Payload;

async function metric(h: GatewayHarness, line: string): Promise<number | null> {
  const text = await h.gateway.metrics.render();
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? null : Number(found.slice(line.length + 1));
}

describe('outbound webhooks', () => {
  it('POSTs the finished job, signed so that the standardwebhooks library verifies it', async () => {
    const h = await harness();
    const hook = await receiver();
    const { secret } = await h.createKey();
    const signingSecret = await secretOf(h, secret);
    expect(signingSecret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);

    const job = await generate(h, secret, { webhookUrl: hook.url });
    const [request] = await hook.waitFor(1);
    const payload = verify(signingSecret, request as ReceivedWebhook);
    const finished = await h.job(secret, job.id as string);

    expect(payload.type).toBe('job.completed');
    expect(Date.parse(payload.timestamp)).toBe(Date.parse(finished.updatedAt as string));
    // The job as GraphQL returns it, image URLs absolute and served by the gateway.
    expect(payload.data).toMatchObject({ ...finished, status: 'COMPLETED' });
    expect(payload.data).not.toHaveProperty('webhookDeliveries');
    const [image] = payload.data.images as { url: string }[];
    expect(image?.url.startsWith(`${h.gateway.url}/images/`)).toBe(true);
    expect((await fetch(image?.url as string)).status).toBe(200);
    expect(() =>
      verify(`whsec_${Buffer.alloc(24, 1).toString('base64')}`, request as ReceivedWebhook),
    ).toThrow();

    const [delivery, ...more] = await deliveriesWhen(
      h,
      secret,
      job.id as string,
      (l) => l.length > 0,
    );
    expect(more).toEqual([]);
    expect(delivery).toMatchObject({
      id: request?.headers['webhook-id'],
      event: 'COMPLETED',
      attempt: 1,
      statusCode: 204,
      error: null,
      nextAttemptAt: null,
    });
    expect(await metric(h, 'zimage_webhook_deliveries_total{outcome="delivered"}')).toBe(1);
  });

  it('retries after a 500 with the same webhook-id, and lists both attempts', async () => {
    const h = await harness();
    const hook = await receiver((n) => (n === 1 ? 500 : 200));
    const { secret } = await h.createKey();
    const signingSecret = await secretOf(h, secret);

    const job = await generate(h, secret, { webhookUrl: hook.url });
    const [first, second] = await hook.waitFor(2);
    expect(second?.headers['webhook-id']).toBe(first?.headers['webhook-id']);
    expect(verify(signingSecret, second as ReceivedWebhook).type).toBe('job.completed');

    const list = await deliveriesWhen(h, secret, job.id as string, (l) => l.length === 2);
    expect(list).toMatchObject([
      {
        attempt: 1,
        statusCode: 500,
        error: 'receiver answered HTTP 500',
        nextAttemptAt: expect.any(String),
      },
      { attempt: 2, statusCode: 200, error: null, nextAttemptAt: null },
    ]);
    expect(new Set(list.map((d) => d.id))).toEqual(new Set([first?.headers['webhook-id']]));
    expect(await metric(h, 'zimage_webhook_deliveries_total{outcome="retrying"}')).toBe(1);
    expect(await metric(h, 'zimage_webhook_deliveries_total{outcome="delivered"}')).toBe(1);
    expect(await metric(h, 'zimage_webhook_queue_depth')).toBe(0);
  });

  it('retries a refused connection until the receiver is up', async () => {
    const h = await harness({ webhooks: { ...LOOPBACK, retrySeconds: Array(200).fill(0.05) } });
    const port = await freePort();
    const { secret } = await h.createKey();
    const job = await generate(h, secret, { webhookUrl: `http://127.0.0.1:${port}/hook` });

    const [refused] = await deliveriesWhen(h, secret, job.id as string, (l) => l.length > 0);
    expect(refused).toMatchObject({
      attempt: 1,
      statusCode: null,
      nextAttemptAt: expect.any(String),
    });
    expect(refused?.error).toMatch(/ECONNREFUSED/);

    const hook = await receiver(() => 204, port);
    const [request] = await hook.waitFor(1);
    expect(request?.headers['webhook-id']).toBe(refused?.id);
    const list = await deliveriesWhen(
      h,
      secret,
      job.id as string,
      (l) => l.at(-1)?.statusCode === 204,
    );
    expect(list.at(-1)).toMatchObject({ id: refused?.id, nextAttemptAt: null });
  });

  it('retries a receiver that does not answer within the timeout', async () => {
    const h = await harness({ webhooks: { ...LOOPBACK, timeoutMs: 1000 } });
    const hook = await receiver((n) => (n === 1 ? null : 204));
    const { secret } = await h.createKey();
    const job = await generate(h, secret, { webhookUrl: hook.url });
    const list = await deliveriesWhen(h, secret, job.id as string, (l) => l.length === 2);
    expect(list).toMatchObject([
      { attempt: 1, statusCode: null, error: 'no answer within 1000 ms' },
      { attempt: 2, statusCode: 204, error: null, nextAttemptAt: null },
    ]);
    expect(hook.received.map((r) => r.headers['webhook-id'])).toEqual([list[0]?.id, list[0]?.id]);
  });

  it('lets a hanging receiver hold only its own slots: other receivers and jobs go on', async () => {
    const perReceiver = 2;
    const h = await harness({ webhooks: { ...LOOPBACK, perReceiver, timeoutMs: 25_000 } });
    const hanging = await receiver(() => null);
    const other = await receiver();
    const { secret } = await h.createKey();
    const stuck = [];
    for (let i = 0; i < perReceiver + 1; i++) {
      stuck.push(await generate(h, secret, { webhookUrl: hanging.url }));
    }
    for (const job of stuck) await h.waitForTerminal(secret, job.id as string);
    await hanging.arrived(perReceiver);

    const job = await generate(h, secret, { webhookUrl: other.url });
    const [request] = await other.waitFor(1);
    expect(JSON.parse(request?.body ?? '{}').data.id).toBe(job.id);
    // The third delivery to the hanging receiver still waits for one of its two slots.
    expect(hanging.received).toHaveLength(perReceiver);
    // Once the other receiver's delivery is recorded, only the hanging receiver's remain.
    await vi.waitFor(
      async () => expect(await metric(h, 'zimage_webhook_queue_depth')).toBe(perReceiver + 1),
      UNTIL_RECORDED,
    );
    expect(hanging.received).toHaveLength(perReceiver);
  });

  it('sends every delivery when more come due than it may send at once', async () => {
    const h = await harness({ webhooks: { ...LOOPBACK, concurrency: 1 } });
    const hook = await receiver();
    const { secret } = await h.createKey();
    const jobs = [];
    for (let i = 0; i < 4; i++) jobs.push(await generate(h, secret, { webhookUrl: hook.url }));
    const received = await hook.waitFor(jobs.length);
    const ids = received.map((r) => JSON.parse(r.body).data.id);
    expect(ids.sort()).toEqual(jobs.map((j) => j.id).sort());
  });

  it('gives up after the last retry of the schedule', async () => {
    const h = await harness({ webhooks: { ...LOOPBACK, retrySeconds: [0.05] } });
    const hook = await receiver(() => 503);
    const { secret } = await h.createKey();
    const job = await generate(h, secret, { webhookUrl: hook.url });
    const list = await deliveriesWhen(h, secret, job.id as string, (l) => l.length === 2);
    expect(list.map((d) => [d.attempt, d.statusCode, d.nextAttemptAt])).toEqual([
      [1, 503, expect.any(String)],
      [2, 503, null],
    ]);
    expect(await metric(h, 'zimage_webhook_deliveries_total{outcome="gave_up"}')).toBe(1);
    expect(await metric(h, 'zimage_webhook_queue_depth')).toBe(0);
  });

  it('sends only the statuses in webhookEvents, the terminal ones by default', async () => {
    const h = await harness();
    const hook = await receiver();
    const { secret } = await h.createKey();
    const signingSecret = await secretOf(h, secret);

    const queuedOnly = await generate(h, secret, {
      webhookUrl: `${hook.url}?events=queued`,
      webhookEvents: ['QUEUED'],
    });
    await h.waitForTerminal(secret, queuedOnly.id as string);
    const byDefault = await generate(h, secret, { webhookUrl: `${hook.url}?events=default` });
    await h.waitForTerminal(secret, byDefault.id as string);

    // Both jobs ended; what was written to the outbox is all sent once the queue is empty.
    await vi.waitFor(
      async () => expect(await metric(h, 'zimage_webhook_queue_depth')).toBe(0),
      UNTIL_RECORDED,
    );
    const sent = hook.received.map((r) => [
      r.path,
      verify(signingSecret, r).type,
      verify(signingSecret, r).data.id,
    ]);
    expect(sent).toEqual([
      ['/hook?events=queued', 'job.queued', queuedOnly.id],
      ['/hook?events=default', 'job.completed', byDefault.id],
    ]);
    const queuedList = await deliveries(h, secret, queuedOnly.id as string);
    expect(queuedList.map((d) => d.event)).toEqual(['QUEUED']);
  });

  it('signs with the rotated secret only, at once', async () => {
    const h = await harness();
    const hook = await receiver();
    const { secret } = await h.createKey();
    const before = await secretOf(h, secret);
    const { body } = await h.graphql('mutation { rotateWebhookSigningSecret }', { key: secret });
    const rotated = body.data?.rotateWebhookSigningSecret as string;
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(before);
    expect(await secretOf(h, secret)).toBe(rotated);

    await generate(h, secret, { webhookUrl: hook.url });
    const [request] = await hook.waitFor(1);
    expect(verify(rotated, request as ReceivedWebhook).type).toBe('job.completed');
    expect(() => verify(before, request as ReceivedWebhook)).toThrow();
  });

  it('keeps the signing secret sealed at rest and out of the logs', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'trace', destination: { write: (l) => lines.push(l) } });
    const h = await harness({ logger });
    const hook = await receiver((n) => (n === 1 ? 500 : 204));
    const { secret, record } = await h.createKey();
    const signingSecret = await secretOf(h, secret);
    await generate(h, secret, { webhookUrl: hook.url });
    await hook.waitFor(2);

    const sealed = (await h.gateway.store.webhookSecret(record.id)) as string;
    expect(sealed).toMatch(/^v1\./);
    const bare = signingSecret.slice('whsec_'.length);
    expect(sealed).not.toContain(bare);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.filter((line) => line.includes(bare))).toEqual([]);
    const keyFile = await stat(path.join(h.gateway.dataDir, SEALING_KEY_FILE));
    expect(keyFile.mode & 0o777).toBe(0o600);
  });

  it('keeps each key its own secret', async () => {
    const h = await harness();
    const [a, b] = [await h.createKey(), await h.createKey()];
    expect(await secretOf(h, a.secret)).not.toBe(await secretOf(h, b.secret));
    expect(await secretOf(h, a.secret)).toBe(await secretOf(h, a.secret));
  });
});

describe('webhook URLs (SSRF)', () => {
  const refusedUrls = [
    'http://127.0.0.1:9/hook',
    'http://localhost/hook',
    'http://[::1]/hook',
    'http://169.254.169.254/latest/meta-data/',
    'http://10.1.2.3/hook',
    'http://[::ffff:192.168.1.1]/hook',
  ];

  it('refuses private, loopback, link-local and metadata addresses without WEBHOOK_ALLOW_PRIVATE_ADDRESSES', async () => {
    const h = await harness({ webhooks: { retrySeconds: [] } });
    const { secret } = await h.createKey();
    for (const webhookUrl of refusedUrls) {
      const { body } = await h.graphql(GENERATE, {
        key: secret,
        variables: { input: { prompt: 'p', imageSize: 'SQUARE_1_1', webhookUrl } },
      });
      expect(body.errors?.[0]?.extensions, webhookUrl).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'webhookUrl',
      });
    }
    const { body } = await h.graphql('{ jobs { edges { node { id } } } }', { key: secret });
    expect(body.data?.jobs).toEqual({ edges: [] });
  });

  it('checks the address again when it delivers, connecting to no private address', async () => {
    const h = await harness({ webhooks: { retrySeconds: [], pollMs: 20 } });
    const hook = await receiver();
    const key = await h.createKey();
    const port = new URL(hook.url).port;
    // Jobs written with loopback URLs, as if their hosts had resolved elsewhere at creation.
    const jobs = [`http://127.0.0.1:${port}/hook`, `http://localhost:${port}/hook`].map(
      (webhookUrl) => newJob(key.record, { webhookUrl, webhookEvents: ['QUEUED'] }),
    );
    for (const job of jobs) {
      await h.gateway.store.admitJob({ job, day: DAY, keyLimits: NO_LIMITS, endUserLimits: null });
    }
    h.gateway.engine.nudge();
    for (const job of jobs) {
      const [attempt] = await deliveriesWhen(h, key.secret, job.id, (l) => l.length > 0);
      expect(attempt).toMatchObject({ statusCode: null, nextAttemptAt: null });
      expect(attempt?.error).toMatch(/^refused: .*(127\.0\.0\.1|localhost)/);
    }
    expect(hook.received).toEqual([]);
  });

  const invalid: [string, Record<string, unknown>, string][] = [
    ['an ftp URL', { webhookUrl: 'ftp://example.com/x' }, 'webhookUrl'],
    ['a URL with a password', { webhookUrl: 'https://u:p@example.com/x' }, 'webhookUrl'],
    [
      'a URL past 2048 characters',
      { webhookUrl: `https://example.com/${'x'.repeat(2048)}` },
      'webhookUrl',
    ],
    ['events without a URL', { webhookEvents: ['COMPLETED'] }, 'webhookEvents'],
    ['no events', { webhookUrl: 'https://example.com/x', webhookEvents: [] }, 'webhookEvents'],
  ];
  for (const [what, input, field] of invalid) {
    it(`refuses ${what}, naming ${field}`, async () => {
      const h = await harness();
      const { secret } = await h.createKey();
      const request: GraphqlRequest = {
        key: secret,
        variables: { input: { prompt: 'p', imageSize: 'SQUARE_1_1', ...input } },
      };
      const { body } = await h.graphql(GENERATE, request);
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    });
  }
});

/**
 * The operators' admin API through a real gateway server: admin scope only; keys created with
 * their secret shown once, signed in with, limited (null clears, absent keeps), revoked; the
 * monthly budget and allowed models enforced at admission before anything is charged or sent;
 * usage reports from the ledger, exact, refunds included; the audit log of all of it.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { hashSecret } from '../src/auth/api-keys.ts';
import { KeyCache } from '../src/auth/authenticate.ts';
import { utcDay } from '../src/limits/budget.ts';
import {
  type GatewayHarness,
  GENERATE,
  startGatewayHarness,
  TEST_POLL_SCHEDULE,
} from './helpers/gateway-harness.ts';

/** Short, so that a revocation shows within a test; the sweep runs at this interval too. */
const KEY_CACHE_TTL_MS = 200;

let h: GatewayHarness;
let adminId: string;

beforeAll(async () => {
  h = await startGatewayHarness({
    keyCache: new KeyCache({ ttlMs: KEY_CACHE_TTL_MS }),
    engine: { pollSchedule: TEST_POLL_SCHEDULE },
  });
  const admin = await h.gateway.store.getApiKeyBySecretHash(hashSecret(h.adminKey));
  adminId = admin?.id as string;
});
afterAll(() => h.close());

type Body = Awaited<ReturnType<GatewayHarness['graphql']>>['body'];
/** The root field `name` of a response that must have it. */
function dataOf<T>(body: Body, name: string): T {
  const value = body.data?.[name];
  if (value === null || value === undefined) {
    throw new Error(`no ${name}: ${JSON.stringify(body.errors)}`);
  }
  return value as T;
}
const errorOf = (body: Body) => body.errors?.[0]?.extensions ?? {};
const submits = () => h.sim.countRequests({ route: 'submit' });

const LIMITS = `limits {
  dailyBudgetUsd monthlyBudgetUsd maxConcurrentJobs requestsPerMinute
  endUserDailyBudgetUsd endUserMaxConcurrentJobs endUserRequestsPerMinute allowedModels
}`;
const KEY_FIELDS = `id name keyPrefix scopes ${LIMITS} spentTodayUsd spentThisMonthUsd
  createdAt lastUsedAt revokedAt`;
const CREATE = `mutation ($input: CreateApiKeyInput!) {
  createApiKey(input: $input) { secret apiKey { ${KEY_FIELDS} } }
}`;
const UPDATE = `mutation ($id: ID!, $limits: ApiKeyLimitsInput!) {
  updateApiKeyLimits(id: $id, limits: $limits) { ${KEY_FIELDS} }
}`;
const REVOKE = `mutation ($id: ID!) { revokeApiKey(id: $id) { ${KEY_FIELDS} } }`;
const API_KEYS = `query ($first: Int, $after: String, $includeRevoked: Boolean) {
  apiKeys(first: $first, after: $after, includeRevoked: $includeRevoked) {
    edges { cursor node { ${KEY_FIELDS} } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;
const REPORT = `query ($from: Date!, $to: Date!, $groupBy: [UsageGrouping!]!) {
  usageReport(from: $from, to: $to, groupBy: $groupBy) {
    day model apiKey { id name } endUserId jobs images costUsd
  }
}`;
const AUDIT = `query ($first: Int, $after: String) {
  auditLog(first: $first, after: $after) {
    edges { node { id at action actor actorApiKey { id } apiKey { id } details } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const VIEWER_USAGE = `{ viewer { name usage { spentTodayUsd dailyBudgetUsd monthlyBudgetUsd
  spentThisMonthUsd } } }`;

interface CreatedKey {
  secret: string;
  apiKey: Record<string, unknown> & { id: string; limits: Record<string, unknown> };
}

async function createKey(input: Record<string, unknown>): Promise<CreatedKey> {
  const { body } = await h.graphql(CREATE, { key: h.adminKey, variables: { input } });
  if (!body.data) throw new Error(`createApiKey failed: ${JSON.stringify(body.errors)}`);
  return body.data.createApiKey as CreatedKey;
}

const generate = (key: string, input: Record<string, unknown> = {}) =>
  h.graphql(GENERATE, {
    key,
    variables: { input: { prompt: 'admin api', imageSize: 'SQUARE_1_1', ...input } },
  });

async function generated(key: string, input: Record<string, unknown> = {}): Promise<string> {
  const { body } = await generate(key, input);
  const job = body.data?.generateImage as { id: string } | undefined;
  if (!job) throw new Error(`generateImage failed: ${JSON.stringify(body.errors)}`);
  return job.id;
}

describe('admin scope', () => {
  it('refuses every admin field and mutation to keys without it, changing nothing', async () => {
    const victim = await createKey({ name: 'victim', scopes: ['read'] });
    const before = await h.graphql(AUDIT, { key: h.adminKey, variables: { first: 100 } });
    const operations: [string, Record<string, unknown>][] = [
      [API_KEYS, {}],
      [REPORT, { from: '2026-01-01', to: '2026-01-31', groupBy: ['DAY'] }],
      [AUDIT, {}],
      [CREATE, { input: { name: 'sneaky', scopes: ['admin'] } }],
      [UPDATE, { id: victim.apiKey.id, limits: { dailyBudgetUsd: 0 } }],
      [REVOKE, { id: victim.apiKey.id }],
    ];
    for (const scopes of [['generate'], ['read'], ['generate', 'read', 'act-as']]) {
      const { secret } = await createKey({ name: `no admin ${scopes.join(',')}`, scopes });
      for (const [query, variables] of operations) {
        const { body } = await h.graphql(query, { key: secret, variables });
        expect(errorOf(body).code, `${scopes} ${query.slice(0, 40)}`).toBe('FORBIDDEN');
      }
    }
    const victimNow = await h.gateway.store.getApiKey(victim.apiKey.id);
    expect(victimNow).toMatchObject({ revokedAt: null, limits: { dailyBudgetMicroUsd: null } });
    expect((await h.gateway.store.listApiKeys()).some((k) => k.name === 'sneaky')).toBe(false);
    // Only the three keys this test created were logged since.
    const after = await h.graphql(AUDIT, { key: h.adminKey, variables: { first: 100 } });
    const count = (body: Body) => dataOf<{ edges: unknown[] }>(body, 'auditLog').edges.length;
    expect(count(after.body) - count(before.body)).toBe(3);
  });

  it('refuses a request without a key as UNAUTHENTICATED', async () => {
    const { body } = await h.graphql(API_KEYS);
    expect(errorOf(body).code).toBe('UNAUTHENTICATED');
  });
});

describe('keys', () => {
  it('creates a key whose secret signs in, stores only its hash, and revokes it', async () => {
    const { secret, apiKey } = await createKey({
      name: 'friend',
      scopes: ['generate', 'read'],
      limits: { dailyBudgetUsd: 2.5, monthlyBudgetUsd: 20, allowedModels: ['Z_IMAGE_TURBO'] },
    });
    expect(secret).toMatch(/^zk_[A-Za-z0-9_-]{43}$/);
    expect(apiKey).toMatchObject({
      name: 'friend',
      keyPrefix: secret.slice(0, 7),
      scopes: ['generate', 'read'],
      limits: {
        dailyBudgetUsd: 2.5,
        monthlyBudgetUsd: 20,
        maxConcurrentJobs: null,
        allowedModels: ['Z_IMAGE_TURBO'],
      },
      spentTodayUsd: 0,
      spentThisMonthUsd: 0,
      lastUsedAt: null,
      revokedAt: null,
    });
    const stored = await h.gateway.store.getApiKey(apiKey.id);
    expect(stored?.secretHash).toBe(hashSecret(secret));
    expect(JSON.stringify(stored)).not.toContain(secret);

    const signedIn = await h.graphql('{ viewer { name scopes } }', { key: secret });
    expect(signedIn.body.data).toEqual({
      viewer: { name: 'friend', scopes: ['generate', 'read'] },
    });
    // The use is recorded in the background, at most once a minute.
    await vi.waitFor(async () => {
      expect((await h.gateway.store.getApiKey(apiKey.id))?.lastUsedAt).toBeInstanceOf(Date);
    });

    const revoked = await h.graphql(REVOKE, { key: h.adminKey, variables: { id: apiKey.id } });
    const revokedAt = dataOf<{ revokedAt: string }>(revoked.body, 'revokeApiKey').revokedAt;
    expect(Date.parse(revokedAt)).not.toBeNaN();
    // Within the key cache's lifetime the secret stops working.
    await vi.waitFor(async () => {
      const { body } = await h.graphql('{ viewer { name } }', { key: secret });
      expect(errorOf(body).code).toBe('UNAUTHENTICATED');
    });
    // Revoking again changes nothing.
    const again = await h.graphql(REVOKE, { key: h.adminKey, variables: { id: apiKey.id } });
    expect(dataOf<{ revokedAt: string }>(again.body, 'revokeApiKey').revokedAt).toBe(revokedAt);
  });

  it('lists keys newest first, paged, revoked ones only when asked', async () => {
    const made = [];
    for (const name of ['page a', 'page b', 'page c'])
      made.push(await createKey({ name, scopes: ['read'] }));
    await h.graphql(REVOKE, { key: h.adminKey, variables: { id: made[1]?.apiKey.id } });

    type Page = {
      edges: { cursor: string; node: { id: string; revokedAt: string | null } }[];
      pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string };
    };
    const page = async (variables: Record<string, unknown>) =>
      (await h.graphql(API_KEYS, { key: h.adminKey, variables })).body.data?.apiKeys as Page;

    const first = await page({ first: 2, includeRevoked: true });
    expect(first.edges.map((e) => e.node.id)).toEqual([made[2]?.apiKey.id, made[1]?.apiKey.id]);
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const second = await page({ first: 1, after: first.pageInfo.endCursor, includeRevoked: true });
    expect(second.edges.map((e) => e.node.id)).toEqual([made[0]?.apiKey.id]);
    expect(second.pageInfo.hasPreviousPage).toBe(true);

    // The spending of a whole page is one store read, however many keys it shows.
    const store = h.gateway.store;
    const read = store.keySpending.bind(store);
    const reads: string[][] = [];
    store.keySpending = (ids, day) => {
      reads.push([...ids]);
      return read(ids, day);
    };
    try {
      await page({ first: 3, includeRevoked: true });
    } finally {
      store.keySpending = read;
    }
    expect(reads).toEqual([[made[2]?.apiKey.id, made[1]?.apiKey.id, made[0]?.apiKey.id]]);

    const unrevoked = await page({ first: 100 });
    const ids = unrevoked.edges.map((e) => e.node.id);
    expect(ids).toContain(made[2]?.apiKey.id);
    expect(ids).not.toContain(made[1]?.apiKey.id);
    expect(unrevoked.edges.every((e) => e.node.revokedAt === null)).toBe(true);
  });

  it('changes only the limits given: null clears one, an absent field keeps it', async () => {
    const { apiKey } = await createKey({
      name: 'limits',
      scopes: ['generate', 'act-as'],
      limits: {
        dailyBudgetUsd: 1,
        monthlyBudgetUsd: 10,
        maxConcurrentJobs: 3,
        requestsPerMinute: 60,
        endUserDailyBudgetUsd: 0.1,
        allowedModels: ['Z_IMAGE_BASE'],
      },
    });
    const update = async (limits: Record<string, unknown>) => {
      const { body } = await h.graphql(UPDATE, {
        key: h.adminKey,
        variables: { id: apiKey.id, limits },
      });
      return body;
    };

    const cleared = await update({ dailyBudgetUsd: null, endUserMaxConcurrentJobs: 2 });
    expect(dataOf<CreatedKey['apiKey']>(cleared, 'updateApiKeyLimits').limits).toEqual({
      dailyBudgetUsd: null,
      monthlyBudgetUsd: 10,
      maxConcurrentJobs: 3,
      requestsPerMinute: 60,
      endUserDailyBudgetUsd: 0.1,
      endUserMaxConcurrentJobs: 2,
      endUserRequestsPerMinute: null,
      allowedModels: ['Z_IMAGE_BASE'],
    });
    const everyModel = await update({ allowedModels: null, monthlyBudgetUsd: 12.345678 });
    expect(dataOf<CreatedKey['apiKey']>(everyModel, 'updateApiKeyLimits').limits).toMatchObject({
      monthlyBudgetUsd: 12.345678,
      allowedModels: null,
      maxConcurrentJobs: 3,
    });
    // Stored exactly, in micro-USD.
    expect((await h.gateway.store.getApiKey(apiKey.id))?.limits).toMatchObject({
      monthlyBudgetMicroUsd: 12_345_678,
      dailyBudgetMicroUsd: null,
    });

    // Bad values name their field and change nothing.
    for (const [limits, field] of [
      [{ dailyBudgetUsd: -1 }, 'limits.dailyBudgetUsd'],
      [{ monthlyBudgetUsd: 0.0000001 }, 'limits.monthlyBudgetUsd'],
      [{ maxConcurrentJobs: 0 }, 'limits.maxConcurrentJobs'],
      [{ allowedModels: [] }, 'limits.allowedModels'],
    ] as const) {
      expect(errorOf(await update(limits))).toEqual({ code: 'BAD_USER_INPUT', field });
    }
    expect((await h.gateway.store.getApiKey(apiKey.id))?.limits.monthlyBudgetMicroUsd).toBe(
      12_345_678,
    );

    const { body: missing } = await h.graphql(UPDATE, {
      key: h.adminKey,
      variables: { id: `key_${'0'.repeat(32)}`, limits: { dailyBudgetUsd: 1 } },
    });
    expect(missing.data).toBeNull();
    expect(errorOf(missing).code).toBe('NOT_FOUND');
  });

  it('logs who created, changed and revoked a key, newest first', async () => {
    const { apiKey } = await createKey({ name: 'audited', scopes: ['read'] });
    await h.graphql(UPDATE, {
      key: h.adminKey,
      variables: { id: apiKey.id, limits: { requestsPerMinute: 5 } },
    });
    await h.graphql(REVOKE, { key: h.adminKey, variables: { id: apiKey.id } });

    const { body } = await h.graphql(AUDIT, { key: h.adminKey, variables: { first: 3 } });
    const entries = dataOf<{ edges: { node: Record<string, unknown> }[] }>(body, 'auditLog')
      .edges.map((edge) => edge.node)
      .map(({ id, at, details, ...rest }) => ({ ...rest, details: JSON.parse(details as string) }));
    const actor = { actor: `${adminId} (admin)`, actorApiKey: { id: adminId } };
    expect(entries).toEqual([
      { action: 'REVOKE_API_KEY', ...actor, apiKey: { id: apiKey.id }, details: {} },
      {
        action: 'UPDATE_API_KEY_LIMITS',
        ...actor,
        apiKey: { id: apiKey.id },
        details: { requestsPerMinute: { from: null, to: 5 } },
      },
      {
        action: 'CREATE_API_KEY',
        ...actor,
        apiKey: { id: apiKey.id },
        details: expect.objectContaining({ name: 'audited', scopes: ['read'] }),
      },
    ]);
  });
});

describe('new limits at admission', () => {
  it('refuses a job past the monthly budget before it reaches Pixazo', async () => {
    const { secret } = await createKey({
      name: 'monthly',
      scopes: ['generate', 'read'],
      limits: { dailyBudgetUsd: 1, monthlyBudgetUsd: 0.016 },
    });
    await h.waitForTerminal(secret, await generated(secret));
    await h.waitForTerminal(secret, await generated(secret));
    const sent = await submits();

    const { body } = await generate(secret);
    expect(body.errors?.[0]?.message).toBe(
      'Monthly budget of this API key exceeded: spent $0.016 of $0.016 this month (UTC), and this job costs $0.008',
    );
    expect(errorOf(body)).toEqual({
      code: 'BUDGET_EXCEEDED',
      scope: 'key',
      spentThisMonthUsd: 0.016,
      monthlyBudgetUsd: 0.016,
      jobCostUsd: 0.008,
    });
    expect(await submits()).toBe(sent);
    const usage = await h.graphql(VIEWER_USAGE, { key: secret });
    expect(usage.body.data).toEqual({
      viewer: {
        name: 'monthly',
        usage: {
          spentTodayUsd: 0.016,
          dailyBudgetUsd: 1,
          monthlyBudgetUsd: 0.016,
          spentThisMonthUsd: 0.016,
        },
      },
    });
  });

  it('refuses a model the key may not use as FORBIDDEN, charging and sending nothing', async () => {
    const { secret, apiKey } = await createKey({
      name: 'base only',
      scopes: ['generate', 'read'],
      limits: { allowedModels: ['Z_IMAGE_BASE'] },
    });
    const sent = await submits();
    const { body } = await generate(secret, { model: 'Z_IMAGE_TURBO' });
    expect(body.errors?.[0]?.message).toBe(
      'This API key may not use this model; it may use Z_IMAGE_BASE',
    );
    expect(errorOf(body)).toEqual({ code: 'FORBIDDEN', field: 'model' });
    expect(await submits()).toBe(sent);
    expect((await h.gateway.store.listJobs({ ownerKeyId: apiKey.id }, 10)).jobs).toEqual([]);
    const keys = await h.graphql(API_KEYS, { key: h.adminKey, variables: { first: 100 } });
    const listed = dataOf<{ edges: { node: { id: string; spentTodayUsd: number } }[] }>(
      keys.body,
      'apiKeys',
    ).edges.find((edge) => edge.node.id === apiKey.id);
    expect(listed?.node.spentTodayUsd).toBe(0);

    const allowed = await generated(secret, { model: 'Z_IMAGE_BASE', numInferenceSteps: 10 });
    expect(await h.waitForTerminal(secret, allowed)).toMatchObject({ status: 'COMPLETED' });

    // Whose key made a job: shown to admins, not to the key itself.
    const whose = async (key: string) => {
      const { body } = await h.graphql('query ($id: ID!) { job(id: $id) { apiKey { id name } } }', {
        key,
        variables: { id: allowed },
      });
      return dataOf<{ apiKey: unknown }>(body, 'job').apiKey;
    };
    expect(await whose(h.adminKey)).toEqual({ id: apiKey.id, name: 'base only' });
    expect(await whose(secret)).toBeNull();
  });
});

describe('usageReport', () => {
  it('groups the charged jobs exactly, a refunded job counting for nothing', async () => {
    const { secret, apiKey } = await createKey({
      name: 'reporter',
      scopes: ['generate', 'read', 'act-as'],
    });
    // Bob's job ends ERROR at Pixazo: refunded in full.
    h.sim.setFaults({ jobError: { next: 1 } });
    const refunded = await h.waitForTerminal(secret, await generated(secret, { endUserId: 'bob' }));
    expect(refunded).toMatchObject({ status: 'ERROR', costUsd: 0 });
    for (const input of [
      {},
      { endUserId: 'alice', numImages: 2 },
      { endUserId: 'alice', model: 'Z_IMAGE_BASE', numInferenceSteps: 10 },
    ]) {
      const done = await h.waitForTerminal(secret, await generated(secret, input));
      expect(done.status).toBe('COMPLETED');
    }

    const today = utcDay(new Date());
    const report = async (groupBy: string[]) => {
      const { body } = await h.graphql(REPORT, {
        key: h.adminKey,
        variables: { from: today, to: today, groupBy },
      });
      const rows = body.data?.usageReport as { apiKey: { id: string } | null }[];
      return rows.filter((row) => row.apiKey?.id === apiKey.id);
    };
    const key = { id: apiKey.id, name: 'reporter' };
    const none = { day: null, model: null, endUserId: null };

    expect(await report(['API_KEY'])).toEqual([
      { ...none, apiKey: key, jobs: 3, images: 4, costUsd: 0.034 },
    ]);
    expect(await report(['DAY', 'API_KEY'])).toEqual([
      { ...none, day: today, apiKey: key, jobs: 3, images: 4, costUsd: 0.034 },
    ]);
    expect(await report(['API_KEY', 'MODEL'])).toEqual([
      { ...none, model: 'Z_IMAGE_BASE', apiKey: key, jobs: 1, images: 1, costUsd: 0.01 },
      { ...none, model: 'Z_IMAGE_TURBO', apiKey: key, jobs: 2, images: 3, costUsd: 0.024 },
    ]);
    expect(await report(['END_USER', 'API_KEY'])).toEqual([
      { ...none, endUserId: 'alice', apiKey: key, jobs: 2, images: 3, costUsd: 0.026 },
      { ...none, apiKey: key, jobs: 1, images: 1, costUsd: 0.008 },
    ]);
    // The key's spending agrees with the ledger.
    const keys = await h.graphql(API_KEYS, { key: h.adminKey, variables: { first: 100 } });
    const listed = dataOf<{ edges: { node: Record<string, unknown> & { id: string } }[] }>(
      keys.body,
      'apiKeys',
    ).edges.find((edge) => edge.node.id === apiKey.id);
    expect(listed?.node).toMatchObject({ spentTodayUsd: 0.034, spentThisMonthUsd: 0.034 });
  });

  it('refuses a period that ends before it starts or spans more than a year', async () => {
    for (const [from, to] of [
      ['2026-02-01', '2026-01-31'],
      ['2025-01-01', '2026-01-02'],
    ]) {
      const { body } = await h.graphql(REPORT, {
        key: h.adminKey,
        variables: { from, to, groupBy: ['DAY'] },
      });
      expect(errorOf(body)).toEqual({ code: 'BAD_USER_INPUT', field: 'to' });
    }
    const { body } = await h.graphql(REPORT, {
      key: h.adminKey,
      variables: { from: '2026-02-30', to: '2026-03-01', groupBy: ['DAY'] },
    });
    expect(errorOf(body).code).toBe('BAD_USER_INPUT');
  });
});

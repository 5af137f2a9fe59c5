import { beforeEach, describe, expect, it } from 'vitest';
import {
  createApiKey,
  dashboardSignInUrl,
  ensureAdminKey,
  generateApiKey,
  hashSecret,
  NO_LIMITS,
} from '../src/auth/api-keys.ts';
import { GatewayError } from '../src/errors.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import type { Store } from '../src/store/store.ts';

describe('API key secrets', () => {
  it('are zk_ and 32 random bytes in base64url, different every time', () => {
    const secrets = new Set(Array.from({ length: 100 }, generateApiKey));
    expect(secrets.size).toBe(100);
    for (const secret of secrets) expect(secret).toMatch(/^zk_[A-Za-z0-9_-]{43}$/);
  });

  it('hash to SHA-256 hex', () => {
    expect(hashSecret('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});

describe('createApiKey', () => {
  let store: Store;
  beforeEach(() => {
    store = openSqliteStore(':memory:');
    return () => store.close();
  });

  it('stores the hash, a prefix and the limits, and returns the secret once', async () => {
    const limits = { dailyBudgetMicroUsd: 5_000_000, maxConcurrentJobs: 3, requestsPerMinute: 60 };
    const { record, secret } = await createApiKey(store, {
      name: '  discord bot ',
      scopes: ['generate', 'act-as', 'generate'],
      limits,
    });
    expect(record).toMatchObject({
      name: 'discord bot',
      secretHash: hashSecret(secret),
      prefix: secret.slice(0, 7),
      scopes: ['generate', 'act-as'],
      limits: { ...NO_LIMITS, ...limits },
      endUserLimits: {
        dailyBudgetMicroUsd: null,
        maxConcurrentJobs: null,
        requestsPerMinute: null,
      },
      lastUsedAt: null,
      revokedAt: null,
    });
    expect(record.id).toMatch(/^key_[0-9a-f]{32}$/);
    expect(await store.getApiKeyBySecretHash(hashSecret(secret))).toEqual(record);
    expect(JSON.stringify(await store.listApiKeys())).not.toContain(secret);
  });

  it.each([
    [{ name: ' ' }, 'name'],
    [{ name: 'x'.repeat(101) }, 'name'],
    [{ scopes: [] }, 'scopes'],
    [{ scopes: ['root'] }, 'scopes'],
    [{ limits: { ...NO_LIMITS, dailyBudgetMicroUsd: -1 } }, 'limits.dailyBudgetMicroUsd'],
    [{ limits: { ...NO_LIMITS, maxConcurrentJobs: 0 } }, 'limits.maxConcurrentJobs'],
    [
      { endUserLimits: { ...NO_LIMITS, requestsPerMinute: 1.5 } },
      'endUserLimits.requestsPerMinute',
    ],
  ])('refuses %j naming field %s', async (input, field) => {
    const error = await createApiKey(store, {
      name: 'key',
      scopes: ['read'],
      ...input,
    } as Parameters<typeof createApiKey>[1]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(await store.listApiKeys()).toEqual([]);
  });

  it('accepts a zero budget (nothing may be spent)', async () => {
    const { record } = await createApiKey(store, {
      name: 'frozen',
      scopes: ['read'],
      limits: { ...NO_LIMITS, dailyBudgetMicroUsd: 0 },
    });
    expect(record.limits.dailyBudgetMicroUsd).toBe(0);
  });
});

describe('ensureAdminKey', () => {
  let store: Store;
  beforeEach(() => {
    store = openSqliteStore(':memory:');
    return () => store.close();
  });

  const configured = 'an-operator-chosen-admin-secret';

  it('creates the configured admin key once, and keeps it afterwards', async () => {
    expect(await ensureAdminKey(store, configured)).toEqual({
      created: true,
      generatedSecret: null,
    });
    expect(await ensureAdminKey(store, configured)).toEqual({
      created: false,
      generatedSecret: null,
    });
    const keys = await store.listApiKeys();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({
      name: 'admin',
      scopes: ['admin'],
      secretHash: hashSecret(configured),
    });
  });

  it('refuses a configured key that was revoked or is not an admin key', async () => {
    await ensureAdminKey(store, configured);
    const [admin] = await store.listApiKeys();
    await store.revokeApiKey(admin?.id ?? '');
    await expect(ensureAdminKey(store, configured)).rejects.toThrow(/^ADMIN_API_KEY .* revoked/);

    const { secret } = await createApiKey(store, { name: 'reader', scopes: ['read'] });
    await expect(ensureAdminKey(store, secret)).rejects.toThrow(/lacks the admin scope/);
  });

  it('generates an admin key to print once when none is configured or exists', async () => {
    const first = await ensureAdminKey(store, undefined);
    expect(first.created).toBe(true);
    expect(first.generatedSecret).toMatch(/^zk_/);
    const [admin] = await store.listApiKeys();
    expect(admin).toMatchObject({
      scopes: ['admin'],
      secretHash: hashSecret(first.generatedSecret ?? ''),
    });

    expect(await ensureAdminKey(store, undefined)).toEqual({
      created: false,
      generatedSecret: null,
    });
  });

  it('generates a new one when every admin key was revoked', async () => {
    const { generatedSecret } = await ensureAdminKey(store, undefined);
    const [admin] = await store.listApiKeys();
    await store.revokeApiKey(admin?.id ?? '');
    const again = await ensureAdminKey(store, undefined);
    expect(again.created).toBe(true);
    expect(again.generatedSecret).not.toBe(generatedSecret);
  });
});

describe('dashboardSignInUrl', () => {
  it('carries the secret in the fragment, which browsers do not send', () => {
    expect(dashboardSignInUrl('http://127.0.0.1:4000/', 'zk_a-b_c')).toBe(
      'http://127.0.0.1:4000/#key=zk_a-b_c',
    );
  });
});

import { beforeEach, describe, expect, it } from 'vitest';
import { createApiKey, NO_LIMITS } from '../src/auth/api-keys.ts';
import { actAs, authenticate, KeyCache } from '../src/auth/authenticate.ts';
import type { Principal } from '../src/domain/principal.ts';
import { GatewayError } from '../src/errors.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import type { Store } from '../src/store/store.ts';

/** The GatewayError `promise` rejects with, or a failure. */
async function gatewayError(promise: Promise<unknown>): Promise<GatewayError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof GatewayError)) throw new Error(`expected a GatewayError, got ${error}`);
  return error;
}

describe('authenticate', () => {
  let store: Store;
  beforeEach(() => {
    store = openSqliteStore(':memory:');
    return () => store.close();
  });

  it('finds the key of a Bearer secret', async () => {
    const { record, secret } = await createApiKey(store, { name: 'k', scopes: ['read'] });
    expect(await authenticate(store, `Bearer ${secret}`)).toEqual({ key: record, endUserId: null });
    expect(await authenticate(store, `bearer   ${secret} `)).toEqual({
      key: record,
      endUserId: null,
    });
  });

  it('treats a missing header as anonymous', async () => {
    expect(await authenticate(store, undefined)).toBeNull();
    expect(await authenticate(store, '  ')).toBeNull();
  });

  it.each(['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer two words', 'zk_only_the_secret'])(
    'rejects the malformed header %j',
    async (header) => {
      const error = await gatewayError(authenticate(store, header));
      expect(error.code).toBe('UNAUTHENTICATED');
      expect(error.message).toMatch(/expected "Bearer <api key>"/);
    },
  );

  it('rejects unknown and revoked keys', async () => {
    expect((await gatewayError(authenticate(store, 'Bearer zk_nope'))).message).toMatch(/Unknown/);
    const { record, secret } = await createApiKey(store, { name: 'k', scopes: ['read'] });
    await store.revokeApiKey(record.id);
    const error = await gatewayError(authenticate(store, `Bearer ${secret}`));
    expect(error.code).toBe('UNAUTHENTICATED');
    expect(error.message).toMatch(/revoked/);
  });

  it('serves a key from the cache until its entry expires', async () => {
    let now = 0;
    const cache = new KeyCache({ ttlMs: 5000, now: () => now });
    const { record, secret } = await createApiKey(store, { name: 'k', scopes: ['read'] });
    await authenticate(store, `Bearer ${secret}`, cache);

    await store.revokeApiKey(record.id);
    now = 4999;
    expect((await authenticate(store, `Bearer ${secret}`, cache))?.key.id).toBe(record.id);
    now = 5000;
    await expect(authenticate(store, `Bearer ${secret}`, cache)).rejects.toThrow(/revoked/);
  });

  it('keeps at most maxEntries keys, dropping the oldest', async () => {
    const cache = new KeyCache({ maxEntries: 2 });
    const keys = await Promise.all(
      ['a', 'b', 'c'].map((name) => createApiKey(store, { name, scopes: ['read'] })),
    );
    for (const { secret } of keys) await authenticate(store, `Bearer ${secret}`, cache);
    expect(cache.get(keys[0]?.record.secretHash ?? '')).toBeUndefined();
    expect(cache.get(keys[1]?.record.secretHash ?? '')).toEqual(keys[1]?.record);
    expect(cache.get(keys[2]?.record.secretHash ?? '')).toEqual(keys[2]?.record);
  });
});

describe('actAs', () => {
  const principal = (scopes: Principal['key']['scopes']): Principal => ({
    key: {
      id: 'key_1',
      name: 'bot',
      secretHash: 'h',
      prefix: 'zk_abcd',
      scopes,
      limits: NO_LIMITS,
      endUserLimits: NO_LIMITS,
      createdAt: new Date(0),
      lastUsedAt: null,
      revokedAt: null,
    },
    endUserId: null,
  });

  it('acts for an end user with the act-as scope (or admin)', () => {
    const bot = principal(['generate', 'act-as']);
    expect(actAs(bot, 'discord:1234')).toEqual({ key: bot.key, endUserId: 'discord:1234' });
    expect(actAs(principal(['admin']), 'u').endUserId).toBe('u');
    expect(actAs(bot, 'x'.repeat(128)).endUserId).toHaveLength(128);
  });

  it('leaves the principal alone without an end user', () => {
    const plain = principal(['generate']);
    expect(actAs(plain, undefined)).toBe(plain);
  });

  it('forbids acting for an end user without the act-as scope', () => {
    expect(() => actAs(principal(['generate', 'read']), 'discord:1')).toThrow(
      expect.objectContaining({ code: 'FORBIDDEN', message: expect.stringMatching(/act-as/) }),
    );
  });

  it.each(['', 'x'.repeat(129), 'has space', 'tab\there', 'nul\u0000', 'émoji🙂'])(
    'rejects the end user id %j as BAD_USER_INPUT on endUserId',
    (endUserId) => {
      expect(() => actAs(principal(['act-as']), endUserId)).toThrow(
        expect.objectContaining({
          code: 'BAD_USER_INPUT',
          extensions: expect.objectContaining({ field: 'endUserId' }),
        }),
      );
    },
  );
});

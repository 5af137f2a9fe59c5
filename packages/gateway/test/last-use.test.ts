/**
 * lastUsedAt is recorded cheaply: one write per key per minute from a gateway process, never
 * awaited by the request, and a failed write only logged.
 */
import { describe, expect, it, vi } from 'vitest';
import { LAST_USE_RESOLUTION_MS, LastUseRecorder } from '../src/auth/last-use.ts';
import { silentLogger } from '../src/domain/logger.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import type { Store } from '../src/store/store.ts';
import { storedKey } from './fixtures/records.ts';

/** A real store whose last-use writes are counted, and a clock stepped by hand. */
async function setUp() {
  const store = openSqliteStore(':memory:');
  const writes: string[] = [];
  const counted: Pick<Store, 'recordApiKeyUse'> = {
    recordApiKeyUse: (id, at, throttleMs) => {
      writes.push(id);
      return store.recordApiKeyUse(id, at, throttleMs);
    },
  };
  let now = Date.UTC(2025, 5, 1, 12);
  const recorder = new LastUseRecorder(counted, silentLogger, () => now);
  return {
    store,
    writes,
    recorder,
    step: (ms: number) => {
      now += ms;
    },
    now: () => now,
  };
}

describe('LastUseRecorder', () => {
  it('writes a key once per minute however often it is used', async () => {
    const { store, writes, recorder, step, now } = await setUp();
    const a = await storedKey(store);
    const b = await storedKey(store);

    for (let i = 0; i < 50; i++) recorder.used(a.id);
    recorder.used(b.id);
    expect(writes).toEqual([a.id, b.id]);
    await vi.waitFor(async () => {
      expect((await store.getApiKey(a.id))?.lastUsedAt?.getTime()).toBe(now());
    });

    step(LAST_USE_RESOLUTION_MS - 1);
    recorder.used(a.id);
    expect(writes).toHaveLength(2);
    step(1);
    recorder.used(a.id);
    expect(writes).toEqual([a.id, b.id, a.id]);
    await vi.waitFor(async () => {
      expect((await store.getApiKey(a.id))?.lastUsedAt?.getTime()).toBe(now());
    });
    await store.close();
  });

  it('logs a failed write, which the request never waits for', async () => {
    let warned: (fields: Record<string, unknown>) => void = () => {};
    const warning = new Promise<Record<string, unknown>>((resolve) => {
      warned = resolve;
    });
    const recorder = new LastUseRecorder(
      { recordApiKeyUse: () => Promise.reject(new Error('database is gone')) },
      { ...silentLogger, warn: (fields) => warned(fields) },
    );
    expect(recorder.used('key_1')).toBeUndefined();
    expect(await warning).toMatchObject({ keyId: 'key_1', err: { message: 'database is gone' } });
  });
});

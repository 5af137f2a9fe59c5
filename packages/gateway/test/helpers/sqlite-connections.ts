/**
 * Several SQLite connections on one new database file, each in its own worker thread, for the
 * store suite's simultaneous admissions: node:sqlite calls are synchronous, so connections in
 * one thread would take turns and never overlap.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { openSqliteStore } from '../../src/store/sqlite.ts';
import type { Store } from '../../src/store/store.ts';
import type { StoreConnections } from '../store.suite.ts';

const WORKER = new URL('../fixtures/sqlite-store-worker.ts', import.meta.url);

export async function openSqliteConnections(count: number): Promise<StoreConnections> {
  const dir = mkdtempSync(join(tmpdir(), 'zimage-store-'));
  const path = join(dir, 'zimage.db');
  // Migrated once here, before the workers open it.
  await openSqliteStore(path).close();
  const stores = await Promise.all(Array.from({ length: count }, () => workerStore(path)));
  return {
    stores,
    async close() {
      await Promise.all(stores.map((store) => store.close()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A Store whose every method runs in a worker thread on its own connection. */
async function workerStore(path: string): Promise<Store> {
  const worker = new Worker(WORKER, { workerData: { path } });
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let nextId = 0;
  const ready = new Promise<void>((resolve, reject) => {
    worker.on(
      'message',
      (message: { ready?: true; id: number; value?: unknown; error?: string }) => {
        if (message.ready) return resolve();
        const call = pending.get(message.id);
        pending.delete(message.id);
        if (message.error === undefined) call?.resolve(message.value);
        else call?.reject(new Error(`in the store worker: ${message.error}`));
      },
    );
    worker.on('error', (error) => {
      reject(error);
      for (const call of pending.values()) call.reject(error);
      pending.clear();
    });
  });
  await ready;
  const call = (method: string, args: unknown[]) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, method, args });
    });
  return new Proxy({} as Store, {
    // Not a thenable: `await` must not take this store for a promise.
    get: (_target, method) =>
      method === 'then' ? undefined : (...args: unknown[]) => call(String(method), args),
  });
}

/**
 * Batching per operation: what the resolvers of one tick ask for by key goes to the store as
 * one call (a page of 100 API keys reads their spending in one query, not 100).
 */
import type { GatewayContext } from './builder.ts';

export type Load<V> = (key: string) => Promise<V | undefined>;

const loaders = new WeakMap<GatewayContext, Map<string, Load<unknown>>>();

/** The operation's loader named `name`, made with `fetch` on first use. */
export function batchLoader<V>(
  context: GatewayContext,
  name: string,
  fetch: (keys: string[]) => Promise<Map<string, V>>,
): Load<V> {
  let byName = loaders.get(context);
  if (byName === undefined) {
    byName = new Map();
    loaders.set(context, byName);
  }
  const existing = byName.get(name);
  if (existing !== undefined) return existing as Load<V>;

  const cache = new Map<string, Promise<V | undefined>>();
  let pending: Map<string, (result: Promise<V | undefined>) => void> | null = null;
  const load: Load<V> = (key) => {
    const cached = cache.get(key);
    if (cached !== undefined) return cached;
    if (pending === null) {
      const batch = new Map<string, (result: Promise<V | undefined>) => void>();
      pending = batch;
      // After the other resolvers of this tick have asked.
      queueMicrotask(() => {
        pending = null;
        const fetched = fetch([...batch.keys()]);
        for (const [batchKey, settle] of batch) settle(fetched.then((m) => m.get(batchKey)));
      });
    }
    const batch = pending;
    const result = new Promise<V | undefined>((resolve, reject) => {
      batch.set(key, (promise) => promise.then(resolve, reject));
    });
    cache.set(key, result);
    return result;
  };
  byName.set(name, load as Load<unknown>);
  return load;
}

/**
 * When each key was last used (ApiKey.lastUsedAt), recorded cheaply: at most one write per key
 * per minute from each gateway process, and the store's write is itself conditional, so
 * instances together write about once a minute per busy key. The write is not awaited: a
 * request never waits for it, and a failed one is only logged.
 */
import type { Logger } from '../domain/logger.ts';
import type { Store } from '../store/store.ts';

/** lastUsedAt is at most this far behind. */
export const LAST_USE_RESOLUTION_MS = 60_000;
/** Keys remembered at once; past it the oldest is forgotten (costing one more write). */
const MAX_KEYS = 10_000;

export class LastUseRecorder {
  readonly #store: Pick<Store, 'recordApiKeyUse'>;
  readonly #logger: Logger;
  readonly #now: () => number;
  /** key id → when this process last wrote it; Map order is oldest insertion first. */
  readonly #written = new Map<string, number>();

  constructor(store: Pick<Store, 'recordApiKeyUse'>, logger: Logger, now: () => number = Date.now) {
    this.#store = store;
    this.#logger = logger;
    this.#now = now;
  }

  /** `keyId` was just used. */
  used(keyId: string): void {
    const now = this.#now();
    const last = this.#written.get(keyId);
    if (last !== undefined && now - last < LAST_USE_RESOLUTION_MS) return;
    this.#written.delete(keyId);
    if (this.#written.size >= MAX_KEYS) {
      const oldest = this.#written.keys().next();
      if (!oldest.done) this.#written.delete(oldest.value);
    }
    this.#written.set(keyId, now);
    this.#store.recordApiKeyUse(keyId, new Date(now), LAST_USE_RESOLUTION_MS).catch((error) => {
      this.#logger.warn({ err: error, keyId }, 'could not record the last use of an API key');
    });
  }
}

/**
 * From an Authorization header to a Principal, and from a Principal to the end user it acts
 * for. Lookups go through a short-lived cache so that a busy key does not cost a database
 * read per request, while a revocation still takes effect within seconds.
 */

import { type ApiKeyRecord, hasScope, type Principal } from '../domain/principal.ts';
import { badUserInput, GatewayError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import { hashSecret } from './api-keys.ts';
import type { LastUseRecorder } from './last-use.ts';

export interface KeyCacheOptions {
  /** How long a looked-up key is trusted; also the longest a revoked key keeps working. */
  ttlMs?: number;
  maxEntries?: number;
  /** Clock in milliseconds (tests step it by hand). */
  now?: () => number;
}

/**
 * Keys found by secret hash, for `ttlMs`. Only keys that exist are kept: caching misses would
 * let anyone fill the cache with random secrets and push out the real keys.
 */
export class KeyCache {
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  /** secret hash → key and expiry; Map order is oldest insertion first. */
  readonly #entries = new Map<string, { key: ApiKeyRecord; expiresAt: number }>();

  constructor(options: KeyCacheOptions = {}) {
    this.#ttlMs = options.ttlMs ?? 5000;
    this.#maxEntries = options.maxEntries ?? 1000;
    this.#now = options.now ?? Date.now;
  }

  /** How long a looked-up key is trusted. */
  get ttlMs(): number {
    return this.#ttlMs;
  }

  get(secretHash: string): ApiKeyRecord | undefined {
    const entry = this.#entries.get(secretHash);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > this.#now()) return entry.key;
    this.#entries.delete(secretHash);
    return undefined;
  }

  set(secretHash: string, key: ApiKeyRecord): void {
    this.#entries.delete(secretHash);
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(secretHash, { key, expiresAt: this.#now() + this.#ttlMs });
  }
}

const BEARER = /^Bearer +(\S+)$/i;

/**
 * The caller behind an `Authorization` header value. No header (or an empty one): null, an
 * anonymous caller, for the server to refuse or not. Anything else that is not a valid,
 * unrevoked key throws UNAUTHENTICATED saying what is wrong.
 */
export async function authenticate(
  store: Store,
  authorization: string | undefined,
  cache?: KeyCache,
  lastUse?: LastUseRecorder,
): Promise<Principal | null> {
  const header = authorization?.trim() ?? '';
  if (header === '') return null;
  const secret = BEARER.exec(header)?.[1];
  if (secret === undefined) {
    throw new GatewayError(
      'UNAUTHENTICATED',
      'Malformed Authorization header: expected "Bearer <api key>"',
    );
  }
  const secretHash = hashSecret(secret);
  let key = cache?.get(secretHash) ?? null;
  if (key === null) {
    key = await store.getApiKeyBySecretHash(secretHash);
    if (key !== null) cache?.set(secretHash, key);
  }
  if (key === null) throw new GatewayError('UNAUTHENTICATED', 'Unknown API key');
  if (key.revokedAt !== null) throw new GatewayError('UNAUTHENTICATED', 'This API key was revoked');
  lastUse?.used(key.id);
  return { key, endUserId: null };
}

/** Printable ASCII without spaces, like `discord:1234`: safe in logs, URLs and bucket names. */
const END_USER_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * The principal acting for `endUserId` (unchanged when it is undefined). Acting for an end
 * user needs the act-as scope: its budgets and limits then apply per end user.
 */
export function actAs(principal: Principal, endUserId: string | undefined): Principal {
  if (endUserId === undefined) return principal;
  if (!hasScope(principal.key, 'act-as')) {
    throw new GatewayError(
      'FORBIDDEN',
      'endUserId needs an API key with the act-as scope; omit it to act as the key itself',
    );
  }
  if (!END_USER_ID.test(endUserId)) {
    throw badUserInput(
      'endUserId',
      'endUserId must be 1 to 128 printable ASCII characters without spaces, like discord:1234',
    );
  }
  return { key: principal.key, endUserId };
}

/**
 * The context of one GraphQL operation, from the caller's Authorization value (an HTTP header,
 * or graphql-ws's connection_init payload).
 */
import { authenticate, type KeyCache } from '../auth/authenticate.ts';
import type { LastUseRecorder } from '../auth/last-use.ts';
import type { JobEngine } from '../jobs/engine.ts';
import type { PubSub } from '../pubsub/pubsub.ts';
import type { GatewayContext } from '../schema/builder.ts';
import type { Store } from '../store/store.ts';

export interface ContextDeps {
  store: Store;
  engine: JobEngine;
  pubsub: PubSub;
  keyCache: KeyCache;
  lastUse: LastUseRecorder;
  /**
   * What image URLs start with: PUBLIC_URL, else the address the server listens on. Never a
   * request's Host header, which any client can forge.
   */
  publicBaseUrl: () => string | null;
}

/** Throws UNAUTHENTICATED for a malformed, unknown or revoked key; no key gives principal null. */
export async function createContext(
  deps: ContextDeps,
  authorization: string | undefined,
): Promise<GatewayContext> {
  return {
    principal: await authenticate(deps.store, authorization, deps.keyCache, deps.lastUse),
    store: deps.store,
    engine: deps.engine,
    pubsub: deps.pubsub,
    publicOrigin: deps.publicBaseUrl(),
  };
}

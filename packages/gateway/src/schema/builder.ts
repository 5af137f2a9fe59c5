/**
 * The Pothos schema builder and the context every resolver gets. Types, queries, mutations and
 * subscriptions live beside each other in one file per domain (node, model, job, viewer,
 * api-key, usage-report, audit-log);
 * schema.ts imports them all and builds the schema.
 */
import SchemaBuilder from '@pothos/core';
import type { Principal } from '../domain/principal.ts';
import type { JobEngine } from '../jobs/engine.ts';
import type { PubSub } from '../pubsub/pubsub.ts';
import type { Store } from '../store/store.ts';

export interface GatewayContext {
  /**
   * Who is calling, acting for the operation's end user once admitted (see
   * graphql/admission.ts); null without an API key, which admission allows for introspection only.
   */
  principal: Principal | null;
  store: Store;
  engine: JobEngine;
  pubsub: PubSub;
  /**
   * What image URLs start with: PUBLIC_URL, else the listen address, never a request's Host
   * header; null (relative URLs) only outside a listening server.
   */
  publicOrigin: string | null;
}

export const builder = new SchemaBuilder<{
  Context: GatewayContext;
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    /** 'YYYY-MM-DD', a UTC day. */
    Date: { Input: string; Output: string };
  };
}>({ defaultFieldNullability: false });

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});

/**
 * The typed `graphql()` tag. Types come from graphql-env.d.ts, generated from the gateway's
 * printed schema (`pnpm --filter @zimage/web graphql-env`). Masking is off: every view reads
 * the same JobFields straight from the normalized cache, so unmasking at each use would be
 * ceremony without a benefit.
 */
import { initGraphQLTada } from 'gql.tada';
import type { introspection } from './graphql-env.d.ts';

export const graphql = initGraphQLTada<{
  introspection: introspection;
  disableMasking: true;
  scalars: { DateTime: string; Date: string };
}>();

export type { ResultOf, VariablesOf } from 'gql.tada';

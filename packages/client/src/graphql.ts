/**
 * The typed `graphql()` tag. Types come from graphql-env.d.ts, generated from the gateway's
 * printed schema (`pnpm --filter @zimage/client graphql-env`), so a schema change that breaks
 * an operation breaks the typecheck of this package and of everything typed by it. The
 * dashboard builds its operations with this tag too (`@zimage/client/graphql`), so the two
 * cannot drift apart in how they type the schema.
 */
import { initGraphQLTada } from 'gql.tada';
import type { introspection } from './graphql-env.d.ts';

export const graphql = initGraphQLTada<{
  introspection: introspection;
  // Every operation reads the one JobFields fragment whole; masking would be ceremony here.
  disableMasking: true;
  scalars: { DateTime: string; Date: string };
}>();

export type { ResultOf, TadaDocumentNode, VariablesOf } from 'gql.tada';

/** PageInfo and the connections built on it (jobs, API keys, the audit log). */
import type { ObjectRef } from '@pothos/core';
import { builder } from './builder.ts';

export interface PageInfoShape {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

/** The page info of `items` (cursors are their ids), after `after` when given. */
export function pageInfoOf(
  items: readonly { id: string }[],
  hasNextPage: boolean,
  after: string | undefined,
): PageInfoShape {
  return {
    hasNextPage,
    hasPreviousPage: after !== undefined,
    startCursor: items[0]?.id ?? null,
    endCursor: items.at(-1)?.id ?? null,
  };
}

export const PageInfo = builder.objectRef<PageInfoShape>('PageInfo').implement({
  fields: (t) => ({
    hasNextPage: t.exposeBoolean('hasNextPage'),
    hasPreviousPage: t.exposeBoolean('hasPreviousPage'),
    startCursor: t.exposeString('startCursor', { nullable: true }),
    endCursor: t.exposeString('endCursor', { nullable: true }),
  }),
});

/** A page of nodes whose cursors are their ids, after `after` when given. */
export interface IdPage<Node extends { id: string }> {
  nodes: Node[];
  hasNextPage: boolean;
  after: string | undefined;
}

/** `<name>Edge` and `<name>Connection` for pages of `node`. */
export function idConnection<Node extends { id: string }>(
  name: string,
  node: ObjectRef<typeof builder.$inferSchemaTypes, Node>,
) {
  const Edge = builder.objectRef<Node>(`${name}Edge`).implement({
    fields: (t) => ({
      cursor: t.string({ resolve: (item) => item.id }),
      // Pothos cannot work out the shape of a type parameter it is handed; `item` is a Node.
      node: t.field({ type: node, resolve: (item) => item as never }),
    }),
  });
  return builder.objectRef<IdPage<Node>>(`${name}Connection`).implement({
    fields: (t) => ({
      edges: t.field({ type: [Edge], resolve: (page) => page.nodes }),
      pageInfo: t.field({
        type: PageInfo,
        resolve: (page) => pageInfoOf(page.nodes, page.hasNextPage, page.after),
      }),
    }),
  });
}

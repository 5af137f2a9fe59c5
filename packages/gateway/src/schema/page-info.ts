/** PageInfo and the connections built on it (jobs, API keys, the audit log). */
import type { ObjectRef } from '@pothos/core';
import { badUserInput } from '../errors.ts';
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

/** Page size of every connection when `first` is not given. */
export const DEFAULT_PAGE_SIZE = 20;

/** The `first` and `after` arguments of a connection whose pages hold at most `max`. */
export const pageArgs = (max: number) =>
  builder.args((t) => ({
    first: t.int({ description: `Page size, 1-${max}; default ${DEFAULT_PAGE_SIZE}.` }),
    after: t.string({ description: 'The endCursor of the previous page.' }),
  }));

/**
 * `first` and `after` checked: a whole page size from 1 to `max` (default DEFAULT_PAGE_SIZE),
 * and a cursor of the ids `cursor` matches; BAD_USER_INPUT naming the field otherwise.
 */
export function readPageArgs(
  args: { first?: number | null; after?: string | null },
  max: number,
  cursor: RegExp,
): { first: number; after: string | undefined } {
  const first = args.first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1 || first > max) {
    throw badUserInput('first', `first must be from 1 to ${max}`);
  }
  const after = args.after ?? undefined;
  if (after !== undefined && !cursor.test(after)) {
    throw badUserInput('after', 'after must be a cursor from an earlier page');
  }
  return { first, after };
}

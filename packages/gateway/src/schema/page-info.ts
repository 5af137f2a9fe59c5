/** PageInfo, shared by every connection (jobs, API keys, the audit log). */
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

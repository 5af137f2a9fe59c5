/**
 * The Node interface and `node(id)`: any object with a global id can be refetched by it.
 * Jobs and API keys are nodes; their ids (`job_…`, `key_…`) are already global. Keys are
 * visible to admins only.
 */

import { hasScope } from '../domain/principal.ts';
import { findVisibleJob, requireScope } from './access.ts';
import { builder } from './builder.ts';

export const NodeInterface = builder.interfaceRef<{ id: string }>('Node').implement({
  description: 'An object that can be refetched by its id with `node(id)`.',
  fields: (t) => ({ id: t.exposeID('id') }),
});

builder.queryField('node', (t) =>
  t.field({
    type: NodeInterface,
    nullable: true,
    description: 'The object with this id, or null when there is none the caller may see.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, context) => {
      const principal = requireScope(context, 'read');
      const id = String(args.id);
      if (id.startsWith('job_')) return findVisibleJob(context, principal, id);
      if (id.startsWith('key_') && hasScope(principal.key, 'admin')) {
        return context.store.getApiKey(id);
      }
      return null;
    },
  }),
);

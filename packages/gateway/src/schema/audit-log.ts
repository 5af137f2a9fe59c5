/**
 * `auditLog`: the key administration of every operator (create, change limits, revoke, through
 * the admin API or the keys CLI), newest first. Admin scope only. Not part of the public
 * contract (operators.graphql has no field for it): the dashboard's admin area reads it.
 */
import { AUDIT_ACTIONS, type AuditAction, type AuditRecord } from '../domain/audit.ts';
import { badUserInput } from '../errors.ts';
import { MAX_ADMIN_PAGE_SIZE } from '../store/store.ts';
import { requireScope } from './access.ts';
import { ApiKey, apiKeyById } from './api-key.ts';
import { builder } from './builder.ts';
import { PageInfo, pageInfoOf } from './page-info.ts';

const DEFAULT_PAGE_SIZE = 20;
/** Cursors are entry ids (`audit_` and 32 hex digits), which sort by creation. */
const CURSOR = /^audit_[0-9a-f]{32}$/;

const AuditActionEnum = builder.enumType('AuditAction', {
  values: Object.fromEntries(
    AUDIT_ACTIONS.map((action) => [action.toUpperCase(), { value: action }]),
  ) as Record<string, { value: AuditAction }>,
});

const AuditEntry = builder.objectRef<AuditRecord>('AuditEntry').implement({
  description: 'One change an operator made to an API key.',
  fields: (t) => ({
    id: t.exposeID('id'),
    at: t.expose('at', { type: 'DateTime' }),
    action: t.field({ type: AuditActionEnum, resolve: (entry) => entry.action }),
    actor: t.string({
      description: 'Who acted: `<key id> (<key name>)` through the API, `keys CLI (user@host)`.',
      resolve: (entry) => entry.actor.label,
    }),
    actorApiKey: t.field({
      type: ApiKey,
      nullable: true,
      description: 'The admin key that acted; null for the keys CLI.',
      resolve: async (entry, _args, context) =>
        entry.actor.keyId === null
          ? null
          : ((await apiKeyById(context, entry.actor.keyId)) ?? null),
    }),
    apiKey: t.field({
      type: ApiKey,
      description: 'The key acted on.',
      resolve: async (entry, _args, context) => {
        const key = await apiKeyById(context, entry.apiKeyId);
        if (key === undefined) throw new Error(`audit entry ${entry.id}: no key ${entry.apiKeyId}`);
        return key;
      },
    }),
    details: t.string({
      description:
        'JSON. CREATE_API_KEY: {name, scopes, limits}; UPDATE_API_KEY_LIMITS: {<limit>: {from, to}} for each limit that changed; REVOKE_API_KEY: {}. Limits are named as in ApiKeyLimits but in integer micro-USD (dailyBudgetMicroUsd, …), models as lowercase keys (turbo, base).',
      resolve: (entry) => JSON.stringify(entry.details),
    }),
  }),
});

const AuditEntryEdge = builder.objectRef<AuditRecord>('AuditEntryEdge').implement({
  fields: (t) => ({
    cursor: t.string({ resolve: (entry) => entry.id }),
    node: t.field({ type: AuditEntry, resolve: (entry) => entry }),
  }),
});

interface AuditPageShape {
  entries: AuditRecord[];
  hasNextPage: boolean;
  after: string | undefined;
}

const AuditEntryConnection = builder.objectRef<AuditPageShape>('AuditEntryConnection').implement({
  fields: (t) => ({
    edges: t.field({ type: [AuditEntryEdge], resolve: (page) => page.entries }),
    pageInfo: t.field({
      type: PageInfo,
      resolve: (page) => pageInfoOf(page.entries, page.hasNextPage, page.after),
    }),
  }),
});

builder.queryField('auditLog', (t) =>
  t.field({
    type: AuditEntryConnection,
    description:
      'Admin: who created, changed the limits of or revoked which key, and when; newest first. (Beyond the public contract.)',
    args: {
      first: t.arg.int({
        description: `Page size, 1-${MAX_ADMIN_PAGE_SIZE}; default ${DEFAULT_PAGE_SIZE}.`,
      }),
      after: t.arg.string({ description: 'The endCursor of the previous page.' }),
    },
    resolve: async (_root, args, context) => {
      requireScope(context, 'admin');
      const first = args.first ?? DEFAULT_PAGE_SIZE;
      if (!Number.isInteger(first) || first < 1 || first > MAX_ADMIN_PAGE_SIZE) {
        throw badUserInput('first', `first must be from 1 to ${MAX_ADMIN_PAGE_SIZE}`);
      }
      const after = args.after ?? undefined;
      if (after !== undefined && !CURSOR.test(after)) {
        throw badUserInput('after', 'after must be a cursor from an earlier page');
      }
      const page = await context.store.listAuditLog(first, after);
      return { ...page, after };
    },
  }),
);

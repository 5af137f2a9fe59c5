/**
 * `auditLog`: the key administration of every operator (create, change limits, revoke, through
 * the admin API or the keys CLI), newest first. Admin scope only. Not part of the public
 * contract (operators.graphql has no field for it): the dashboard's admin area reads it.
 */
import { AUDIT_ACTIONS, type AuditAction, type AuditRecord } from '../domain/audit.ts';
import { MAX_ADMIN_PAGE_SIZE } from '../store/store.ts';
import { requireScope } from './access.ts';
import { ApiKey, apiKeyById } from './api-key.ts';
import { builder } from './builder.ts';
import { idConnection, pageArgs, readPageArgs } from './page-info.ts';

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

const AuditEntryConnection = idConnection('AuditEntry', AuditEntry);

builder.queryField('auditLog', (t) =>
  t.field({
    type: AuditEntryConnection,
    description:
      'Admin: who created, changed the limits of or revoked which key, and when; newest first. (Beyond the public contract.)',
    args: {
      ...pageArgs(MAX_ADMIN_PAGE_SIZE),
    },
    resolve: async (_root, args, context) => {
      requireScope(context, 'admin');
      const { first, after } = readPageArgs(args, MAX_ADMIN_PAGE_SIZE, CURSOR);
      const page = await context.store.listAuditLog(first, after);
      return { nodes: page.entries, hasNextPage: page.hasNextPage, after };
    },
  }),
);

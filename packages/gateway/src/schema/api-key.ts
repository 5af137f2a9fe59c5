/**
 * The operators' admin API for keys: ApiKey and its limits, the `apiKeys` page, and the
 * mutations that create a key, change its limits and revoke it. Admin scope only; every change
 * is written to the audit log with the admin key that made it (auth/key-admin.ts).
 */
import { microUsdToUsd } from '@zimage/core';
import { checkLimitsPatch, createApiKey } from '../auth/api-keys.ts';
import { apiActor, revokeKey, updateKeyLimits } from '../auth/key-admin.ts';
import {
  FLAT_LIMIT_NAMES,
  type FlatLimits,
  flatLimits,
  type LimitsPatch,
  NO_FLAT_LIMITS,
  splitLimits,
} from '../domain/key-limits.ts';
import { type ApiKeyRecord, hasScope, type Scope } from '../domain/principal.ts';
import { badUserInput, GatewayError } from '../errors.ts';
import { utcDay } from '../limits/budget.ts';
import { type KeySpending, MAX_ADMIN_PAGE_SIZE } from '../store/store.ts';
import { requireScope } from './access.ts';
import { batchLoader } from './batch.ts';
import { builder, type GatewayContext } from './builder.ts';
import { Job } from './job.ts';
import { ModelEnum } from './model.ts';
import { NodeInterface } from './node.ts';
import { idConnection, pageArgs, readPageArgs } from './page-info.ts';

/** Budgets above this are typing mistakes (and stay far inside exact doubles in micro-USD). */
const MAX_BUDGET_USD = 1_000_000_000;
/** Cursors are key ids (`key_` and 32 hex digits), which sort by creation. */
const KEY_ID = /^key_[0-9a-f]{32}$/;

const usd = (microUsd: number | null): number | null =>
  microUsd === null ? null : microUsdToUsd(microUsd);

const ApiKeyLimits = builder.objectRef<FlatLimits>('ApiKeyLimits').implement({
  fields: (t) => ({
    dailyBudgetUsd: t.float({ nullable: true, resolve: (l) => usd(l.dailyBudgetMicroUsd) }),
    monthlyBudgetUsd: t.float({ nullable: true, resolve: (l) => usd(l.monthlyBudgetMicroUsd) }),
    maxConcurrentJobs: t.exposeInt('maxConcurrentJobs', { nullable: true }),
    requestsPerMinute: t.exposeInt('requestsPerMinute', { nullable: true }),
    endUserDailyBudgetUsd: t.float({
      nullable: true,
      resolve: (l) => usd(l.endUserDailyBudgetMicroUsd),
    }),
    endUserMaxConcurrentJobs: t.exposeInt('endUserMaxConcurrentJobs', { nullable: true }),
    endUserRequestsPerMinute: t.exposeInt('endUserRequestsPerMinute', { nullable: true }),
    allowedModels: t.field({
      type: [ModelEnum],
      nullable: true,
      description: 'null: every model.',
      resolve: (l) => l.allowedModels,
    }),
  }),
});

/** The spending of keys today (UTC), read for every key the operation shows in one query. */
function spendingOf(context: GatewayContext, keyId: string): Promise<KeySpending | undefined> {
  const day = utcDay(new Date());
  return batchLoader(context, 'keySpending', (ids) => context.store.keySpending(ids, day))(keyId);
}

export const ApiKey = builder.objectRef<ApiKeyRecord>('ApiKey').implement({
  interfaces: [NodeInterface],
  isTypeOf: (value) => typeof value === 'object' && value !== null && 'secretHash' in value,
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    keyPrefix: t.string({
      description: 'The first characters of the secret, to recognise it.',
      resolve: (key) => key.prefix,
    }),
    scopes: t.stringList({ resolve: (key) => [...key.scopes] }),
    limits: t.field({ type: ApiKeyLimits, resolve: (key) => flatLimits(key) }),
    spentTodayUsd: t.float({
      resolve: async (key, _args, context) =>
        microUsdToUsd((await spendingOf(context, key.id))?.todayMicroUsd ?? 0),
    }),
    spentThisMonthUsd: t.float({
      resolve: async (key, _args, context) =>
        microUsdToUsd((await spendingOf(context, key.id))?.thisMonthMicroUsd ?? 0),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
});

/** The key with this id, read with the operation's other keys in one query. */
export function apiKeyById(context: GatewayContext, id: string): Promise<ApiKeyRecord | undefined> {
  return batchLoader(context, 'apiKeys', async (ids) => {
    const keys = await context.store.getApiKeys(ids);
    return new Map(keys.map((key) => [key.id, key]));
  })(id);
}

// Beyond the contract, for the admin area's job history: whose key made each job.
builder.objectField(Job, 'apiKey', (t) =>
  t.field({
    type: ApiKey,
    nullable: true,
    description:
      'The API key that created the job; null unless the caller is an admin key. (Beyond the public contract.)',
    resolve: async (job, _args, context) =>
      context.principal !== null && hasScope(context.principal.key, 'admin')
        ? ((await apiKeyById(context, job.ownerKeyId)) ?? null)
        : null,
  }),
);

const ApiKeyConnection = idConnection('ApiKey', ApiKey);

const ApiKeyLimitsInput = builder.inputType('ApiKeyLimitsInput', {
  description: 'Null clears a limit; an absent field keeps it.',
  fields: (t) => ({
    dailyBudgetUsd: t.float(),
    monthlyBudgetUsd: t.float(),
    maxConcurrentJobs: t.int(),
    requestsPerMinute: t.int(),
    endUserDailyBudgetUsd: t.float(),
    endUserMaxConcurrentJobs: t.int(),
    endUserRequestsPerMinute: t.int(),
    allowedModels: t.field({ type: [ModelEnum] }),
  }),
});

type LimitsInput = typeof ApiKeyLimitsInput.$inferInput;

/** Input field names: the flat limits' names with USD where they say micro-USD. */
const inputName = (name: keyof FlatLimits): string => name.replace('MicroUsd', 'Usd');

/** USD as given (a float) to exact micro-USD; a value with more than 6 decimals is refused. */
function microUsdOf(field: string, value: number): number {
  const micro = Math.round(value * 1_000_000);
  if (!Number.isFinite(value) || value < 0 || value > MAX_BUDGET_USD) {
    throw badUserInput(
      field,
      `${field} must be from 0 to ${MAX_BUDGET_USD} USD, or null (no limit)`,
    );
  }
  if (Math.abs(micro - value * 1_000_000) > 1e-3) {
    throw badUserInput(field, `${field} must have at most 6 decimals (micro-USD)`);
  }
  return micro;
}

/**
 * The patch an ApiKeyLimitsInput asks for: the fields present in it (GraphQL leaves absent
 * ones out of the object, and gives null for an explicit null), in micro-USD. Errors name the
 * field as `limits.<field>`, whichever argument holds it.
 */
function limitsPatchOf(input: LimitsInput): LimitsPatch {
  const field = (name: keyof FlatLimits) => `limits.${inputName(name)}`;
  const patch: LimitsPatch = {};
  for (const name of FLAT_LIMIT_NAMES) {
    const key = inputName(name) as keyof LimitsInput;
    if (!Object.hasOwn(input, key)) continue;
    const value = input[key];
    if (name === 'allowedModels') {
      patch.allowedModels = (value as FlatLimits['allowedModels'] | null) ?? null;
    } else if (value === null || value === undefined) {
      patch[name] = null;
    } else {
      patch[name] = name.endsWith('MicroUsd')
        ? microUsdOf(field(name), value as number)
        : (value as number);
    }
  }
  return checkLimitsPatch(patch, field);
}

builder.queryField('apiKeys', (t) =>
  t.field({
    type: ApiKeyConnection,
    description: 'Admin: every key, newest first.',
    args: {
      ...pageArgs(MAX_ADMIN_PAGE_SIZE),
      includeRevoked: t.arg.boolean({ defaultValue: false }),
    },
    resolve: async (_root, args, context) => {
      requireScope(context, 'admin');
      const { first, after } = readPageArgs(args, MAX_ADMIN_PAGE_SIZE, KEY_ID);
      const page = await context.store.listApiKeyPage({
        first,
        after,
        includeRevoked: args.includeRevoked ?? false,
      });
      return { nodes: page.keys, hasNextPage: page.hasNextPage, after };
    },
  }),
);

const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    scopes: t.stringList({ required: true, description: 'Any of generate, read, admin, act-as.' }),
    limits: t.field({ type: ApiKeyLimitsInput }),
  }),
});

const CreatedApiKey = builder
  .objectRef<{ record: ApiKeyRecord; secret: string }>('CreatedApiKey')
  .implement({
    fields: (t) => ({
      apiKey: t.field({ type: ApiKey, resolve: (created) => created.record }),
      secret: t.exposeString('secret', {
        description: 'The whole secret: shown once, never stored.',
      }),
    }),
  });

builder.mutationField('createApiKey', (t) =>
  t.field({
    type: CreatedApiKey,
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    resolve: (_root, { input }, context) => {
      const principal = requireScope(context, 'admin');
      const patch = input.limits ? limitsPatchOf(input.limits) : {};
      return createApiKey(
        context.store,
        {
          name: input.name,
          scopes: input.scopes as Scope[],
          ...splitLimits({ ...NO_FLAT_LIMITS, ...patch }),
        },
        apiActor(principal.key),
      );
    },
  }),
);

const noSuchKey = (id: string) => new GatewayError('NOT_FOUND', `No API key with id ${id}`, { id });

builder.mutationField('updateApiKeyLimits', (t) =>
  t.field({
    type: ApiKey,
    args: {
      id: t.arg.id({ required: true }),
      limits: t.arg({ type: ApiKeyLimitsInput, required: true }),
    },
    resolve: async (_root, args, context) => {
      const principal = requireScope(context, 'admin');
      const id = String(args.id);
      const patch = limitsPatchOf(args.limits);
      const key = await updateKeyLimits(context.store, id, patch, apiActor(principal.key));
      if (key === null) throw noSuchKey(id);
      return key;
    },
  }),
);

builder.mutationField('revokeApiKey', (t) =>
  t.field({
    type: ApiKey,
    description:
      'Gateways stop accepting the key within their key cache lifetime (5 s), and end its open subscriptions. Revoking a revoked key changes nothing.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, context) => {
      const principal = requireScope(context, 'admin');
      const id = String(args.id);
      await revokeKey(context.store, id, apiActor(principal.key));
      const key = await context.store.getApiKey(id);
      if (key === null) throw noSuchKey(id);
      return key;
    },
  }),
);

/**
 * The admin part of the fake gateway: API keys with their limits, spend and revocation, and a
 * usage report grouped from ledger-like rows. Like the rest of the fake, it runs behind the
 * real schema, so the dashboard's admin operations are validated here too.
 */
import { GraphQLError } from 'graphql';
import type {
  ApiKey,
  ApiKeyLimits,
  ApiKeyLimitsInput,
  CreateApiKeyInput,
  UsageGrouping,
} from '../../src/graphql/admin-operations.ts';
import type { Model } from '../../src/graphql/operations.ts';

export const NO_LIMITS: ApiKeyLimits = {
  dailyBudgetUsd: null,
  monthlyBudgetUsd: null,
  maxConcurrentJobs: null,
  requestsPerMinute: null,
  endUserDailyBudgetUsd: null,
  endUserMaxConcurrentJobs: null,
  endUserRequestsPerMinute: null,
  allowedModels: null,
};

/** One charged job (or a sum of some), as the gateway's ledger would group it. */
export interface UsageEntry {
  day: string;
  model: Model;
  apiKeyId: string;
  endUserId?: string | null;
  jobs?: number;
  images?: number;
  costUsd: number;
}

const FIELD_OF: Record<UsageGrouping, keyof UsageEntry> = {
  DAY: 'day',
  MODEL: 'model',
  API_KEY: 'apiKeyId',
  END_USER: 'endUserId',
};

interface AuditRow {
  id: string;
  at: string;
  action: 'CREATE_API_KEY' | 'UPDATE_API_KEY_LIMITS' | 'REVOKE_API_KEY';
  actor: string;
  apiKeyId: string;
  details: string;
}

export function createFakeAdmin() {
  const keys = new Map<string, ApiKey>();
  const usage: UsageEntry[] = [];
  const audit: AuditRow[] = [];
  let sequence = 0;
  const record = (action: AuditRow['action'], apiKeyId: string, details: object) =>
    audit.unshift({
      id: `audit_${String(audit.length + 1).padStart(4, '0')}`,
      at: new Date().toISOString(),
      action,
      actor: 'key_admin (Test key)',
      apiKeyId,
      details: JSON.stringify(details),
    });

  function addApiKey(fields: Partial<ApiKey> = {}): ApiKey {
    sequence += 1;
    const key: ApiKey = {
      id: `key_${String(sequence).padStart(4, '0')}`,
      name: `key ${sequence}`,
      keyPrefix: `zk_${String(sequence).padStart(4, '0')}`,
      scopes: ['generate', 'read'],
      limits: NO_LIMITS,
      spentTodayUsd: 0,
      spentThisMonthUsd: 0,
      createdAt: new Date(Date.parse('2025-06-01T00:00:00Z') + sequence * 1000).toISOString(),
      lastUsedAt: null,
      revokedAt: null,
      ...fields,
    };
    keys.set(key.id, key);
    return key;
  }

  const getKey = (id: string) => {
    const key = keys.get(id);
    if (!key) throw new GraphQLError(`No API key ${id}`, { extensions: { code: 'NOT_FOUND' } });
    return key;
  };

  /** Like the gateway: an absent field keeps its limit, null clears it. */
  const applyLimits = (limits: ApiKeyLimits, input: ApiKeyLimitsInput): ApiKeyLimits => ({
    ...limits,
    ...input,
  });

  const rootValue = {
    apiKeys: ({ first, after }: { first?: number | null; after?: string | null }) => {
      const all = [...keys.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
      const start = after ? all.findIndex((key) => key.id === after) + 1 : 0;
      const page = all.slice(start, start + (first ?? 20));
      return {
        edges: page.map((node) => ({ cursor: node.id, node })),
        pageInfo: {
          hasNextPage: start + page.length < all.length,
          hasPreviousPage: start > 0,
          startCursor: page[0]?.id ?? null,
          endCursor: page.at(-1)?.id ?? null,
        },
      };
    },
    createApiKey: ({ input }: { input: CreateApiKeyInput }) => {
      const key = addApiKey({
        name: input.name,
        scopes: [...input.scopes],
        limits: applyLimits(NO_LIMITS, input.limits ?? {}),
      });
      record('CREATE_API_KEY', key.id, { name: key.name, scopes: key.scopes });
      return { apiKey: key, secret: `zk_secret_of_${key.id}` };
    },
    updateApiKeyLimits: ({ id, limits }: { id: string; limits: ApiKeyLimitsInput }) => {
      const key = getKey(id);
      const updated = { ...key, limits: applyLimits(key.limits, limits) };
      keys.set(id, updated);
      record('UPDATE_API_KEY_LIMITS', id, limits);
      return updated;
    },
    revokeApiKey: ({ id }: { id: string }) => {
      const updated = { ...getKey(id), revokedAt: new Date().toISOString() };
      keys.set(id, updated);
      record('REVOKE_API_KEY', id, {});
      return updated;
    },
    auditLog: ({ first, after }: { first?: number | null; after?: string | null }) => {
      const start = after ? audit.findIndex((entry) => entry.id === after) + 1 : 0;
      const page = audit.slice(start, start + (first ?? 20));
      return {
        edges: page.map((entry) => ({
          cursor: entry.id,
          node: { ...entry, apiKey: getKey(entry.apiKeyId), actorApiKey: null },
        })),
        pageInfo: {
          hasNextPage: start + page.length < audit.length,
          hasPreviousPage: start > 0,
          startCursor: page[0]?.id ?? null,
          endCursor: page.at(-1)?.id ?? null,
        },
      };
    },
    usageReport: ({
      from,
      to,
      groupBy,
    }: {
      from: string;
      to: string;
      groupBy: UsageGrouping[];
    }) => {
      const groups = new Map<string, UsageEntry & { jobs: number; images: number }>();
      for (const entry of usage) {
        if (entry.day < from || entry.day > to) continue;
        const id = JSON.stringify(groupBy.map((grouping) => entry[FIELD_OF[grouping]] ?? null));
        const group = groups.get(id) ?? {
          day: groupBy.includes('DAY') ? entry.day : '',
          model: entry.model,
          apiKeyId: entry.apiKeyId,
          endUserId: entry.endUserId ?? null,
          jobs: 0,
          images: 0,
          costUsd: 0,
        };
        group.jobs += entry.jobs ?? 1;
        group.images += entry.images ?? 1;
        group.costUsd += entry.costUsd;
        groups.set(id, group);
      }
      return [...groups.values()].map((group) => ({
        day: groupBy.includes('DAY') ? group.day : null,
        model: groupBy.includes('MODEL') ? group.model : null,
        apiKey: groupBy.includes('API_KEY') ? getKey(group.apiKeyId) : null,
        endUserId: groupBy.includes('END_USER') ? group.endUserId : null,
        jobs: group.jobs,
        images: group.images,
        costUsd: Math.round(group.costUsd * 1e6) / 1e6,
      }));
    },
  };

  return { keys, usage, audit, addApiKey, rootValue };
}

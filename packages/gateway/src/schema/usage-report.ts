/**
 * `usageReport`: what the ledger charged between two UTC days, grouped by day, model, key
 * and/or end user, exact in micro-USD until it becomes `costUsd`. Admin scope only.
 */
import { microUsdToUsd } from '@zimage/core';
import { USAGE_GROUPS, type UsageGroup, type UsageReportRow } from '../store/store.ts';
import { readUsageReport } from '../store/usage-report.ts';
import { requireScope } from './access.ts';
import { ApiKey, apiKeyById } from './api-key.ts';
import { builder } from './builder.ts';
import { ModelEnum } from './model.ts';

const GROUPING_NAMES: Record<UsageGroup, string> = {
  day: 'DAY',
  model: 'MODEL',
  apiKey: 'API_KEY',
  endUser: 'END_USER',
};

const UsageGroupingEnum = builder.enumType('UsageGrouping', {
  values: Object.fromEntries(
    USAGE_GROUPS.map((group) => [GROUPING_NAMES[group], { value: group }]),
  ) as Record<string, { value: UsageGroup }>,
});

const UsageRow = builder.objectRef<UsageReportRow>('UsageRow').implement({
  description: 'One group of a usage report; the fields not grouped by are null.',
  fields: (t) => ({
    day: t.field({ type: 'Date', nullable: true, resolve: (row) => row.day }),
    model: t.field({ type: ModelEnum, nullable: true, resolve: (row) => row.model }),
    apiKey: t.field({
      type: ApiKey,
      nullable: true,
      resolve: async (row, _args, context) =>
        row.keyId === null ? null : ((await apiKeyById(context, row.keyId)) ?? null),
    }),
    endUserId: t.exposeString('endUserId', { nullable: true }),
    jobs: t.exposeInt('jobs'),
    images: t.exposeInt('images'),
    costUsd: t.float({ resolve: (row) => microUsdToUsd(row.microUsd) }),
  }),
});

builder.queryField('usageReport', (t) =>
  t.field({
    type: [UsageRow],
    description:
      'Admin: charged jobs between from and to (inclusive UTC days), grouped as asked. Each job counts on its creation day with its refunds, so a job refunded in full counts for nothing.',
    args: {
      from: t.arg({ type: 'Date', required: true }),
      to: t.arg({ type: 'Date', required: true }),
      groupBy: t.arg({ type: [UsageGroupingEnum], required: true }),
    },
    resolve: (_root, args, context) => {
      requireScope(context, 'admin');
      return readUsageReport(context.store, args);
    },
  }),
);

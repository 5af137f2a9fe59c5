/**
 * The caller: its API key, the end user it acts for, and its usage against its limits today.
 * An act-as key passes `endUserId` to see one end user's usage (what a bot shows its users).
 */
import { microUsdToUsd } from '@zimage/core';
import type { Usage as StoredUsage } from '../domain/admission.ts';
import type { Limits, Principal } from '../domain/principal.ts';
import { utcDay } from '../limits/budget.ts';
import { ACT_FOR_END_USER, requirePrincipal } from './access.ts';
import { builder } from './builder.ts';

interface UsageShape {
  /** Per end user when acting for one, else the key's own. */
  limits: Limits;
  /** The key's own; null for an end user, who has no monthly budget. */
  monthlyBudgetMicroUsd: number | null;
  /** Read once, whichever of its fields are selected. */
  today: () => Promise<StoredUsage>;
}

const Usage = builder.objectRef<UsageShape>('Usage').implement({
  description:
    "Today's and this month's usage (UTC) of the key, or of the end user it acts for, against its limits.",
  fields: (t) => ({
    spentTodayUsd: t.float({
      resolve: async (usage) => microUsdToUsd((await usage.today()).spentMicroUsd),
    }),
    dailyBudgetUsd: t.float({
      nullable: true,
      description: 'null: no daily budget.',
      resolve: ({ limits }) =>
        limits.dailyBudgetMicroUsd === null ? null : microUsdToUsd(limits.dailyBudgetMicroUsd),
    }),
    monthlyBudgetUsd: t.float({
      nullable: true,
      description: 'null: no monthly budget (UTC calendar month).',
      resolve: ({ monthlyBudgetMicroUsd }) =>
        monthlyBudgetMicroUsd === null ? null : microUsdToUsd(monthlyBudgetMicroUsd),
    }),
    spentThisMonthUsd: t.float({
      description: 'Spent in this UTC calendar month, today included.',
      resolve: async (usage) => microUsdToUsd((await usage.today()).spentThisMonthMicroUsd),
    }),
    jobsInFlight: t.int({ resolve: async (usage) => (await usage.today()).jobsInFlight }),
    maxConcurrentJobs: t.int({
      nullable: true,
      description: 'null: no cap.',
      resolve: ({ limits }) => limits.maxConcurrentJobs,
    }),
    requestsPerMinute: t.int({
      nullable: true,
      description: 'Request rate limit; null: none.',
      resolve: ({ limits }) => limits.requestsPerMinute,
    }),
  }),
});

const Viewer = builder.objectRef<Principal>('Viewer').implement({
  description: 'The caller.',
  fields: (t) => ({
    name: t.string({ description: "The API key's name.", resolve: (p) => p.key.name }),
    scopes: t.stringList({ resolve: (p) => [...p.key.scopes] }),
    keyPrefix: t.string({
      description: "The first characters of the API key's secret, to recognise it.",
      resolve: (p) => p.key.prefix,
    }),
    endUserId: t.string({
      nullable: true,
      description: 'The end user the key acts for in this request.',
      resolve: (p) => p.endUserId,
    }),
    usage: t.field({
      type: Usage,
      resolve: (principal, _args, context) => {
        let today: Promise<StoredUsage> | undefined;
        const owner = { keyId: principal.key.id, endUserId: principal.endUserId };
        return {
          limits: principal.endUserId === null ? principal.key.limits : principal.key.endUserLimits,
          monthlyBudgetMicroUsd:
            principal.endUserId === null ? principal.key.limits.monthlyBudgetMicroUsd : null,
          today: () => {
            today ??= context.store.usage(owner, utcDay(new Date()));
            return today;
          },
        };
      },
    }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({
    type: Viewer,
    description: 'Any valid key may look at itself, whatever its scopes.',
    args: {
      endUserId: t.arg.string({ description: ACT_FOR_END_USER }),
    },
    // The end user is applied to the principal at admission (graphql/admission.ts).
    resolve: (_root, _args, context) => requirePrincipal(context),
  }),
);

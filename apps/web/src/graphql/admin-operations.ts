/**
 * The admin area's operations (admin keys only; any other key gets FORBIDDEN). Only the admin
 * area's lazy chunk imports this file, so other keys never download it.
 */
import { graphql, type ResultOf, type VariablesOf } from '@zimage/client/graphql';

export const ApiKeyFields = graphql(`
  fragment ApiKeyFields on ApiKey {
    id
    name
    keyPrefix
    scopes
    limits {
      dailyBudgetUsd
      monthlyBudgetUsd
      maxConcurrentJobs
      requestsPerMinute
      endUserDailyBudgetUsd
      endUserMaxConcurrentJobs
      endUserRequestsPerMinute
      allowedModels
    }
    spentTodayUsd
    spentThisMonthUsd
    createdAt
    lastUsedAt
    revokedAt
  }
`);

export type ApiKey = ResultOf<typeof ApiKeyFields>;
export type ApiKeyLimits = ApiKey['limits'];

export const ApiKeysQuery = graphql(
  `
  query ApiKeys($first: Int!, $after: String) {
    apiKeys(first: $first, after: $after, includeRevoked: true) {
      edges {
        node {
          ...ApiKeyFields
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`,
  [ApiKeyFields],
);

export const CreateApiKeyMutation = graphql(
  `
  mutation CreateApiKey($input: CreateApiKeyInput!) {
    createApiKey(input: $input) {
      secret
      apiKey {
        ...ApiKeyFields
      }
    }
  }
`,
  [ApiKeyFields],
);

export type CreateApiKeyInput = VariablesOf<typeof CreateApiKeyMutation>['input'];
export type ApiKeyLimitsInput = NonNullable<CreateApiKeyInput['limits']>;

export const UpdateApiKeyLimitsMutation = graphql(
  `
  mutation UpdateApiKeyLimits($id: ID!, $limits: ApiKeyLimitsInput!) {
    updateApiKeyLimits(id: $id, limits: $limits) {
      ...ApiKeyFields
    }
  }
`,
  [ApiKeyFields],
);

export const RevokeApiKeyMutation = graphql(
  `
  mutation RevokeApiKey($id: ID!) {
    revokeApiKey(id: $id) {
      ...ApiKeyFields
    }
  }
`,
  [ApiKeyFields],
);

export const UsageReportQuery = graphql(`
  query UsageReport($from: Date!, $to: Date!, $groupBy: [UsageGrouping!]!) {
    usageReport(from: $from, to: $to, groupBy: $groupBy) {
      day
      model
      apiKey {
        id
        name
        keyPrefix
      }
      endUserId
      jobs
      images
      costUsd
    }
  }
`);

export type UsageRow = ResultOf<typeof UsageReportQuery>['usageReport'][number];
export type UsageGrouping = VariablesOf<typeof UsageReportQuery>['groupBy'][number];

/** Who created, changed or revoked which key, newest first (beyond the public contract). */
export const AuditLogQuery = graphql(`
  query AuditLog($first: Int!, $after: String) {
    auditLog(first: $first, after: $after) {
      edges {
        node {
          id
          at
          action
          actor
          apiKey {
            id
            name
            keyPrefix
          }
          details
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export type AuditEntry = ResultOf<typeof AuditLogQuery>['auditLog']['edges'][number]['node'];

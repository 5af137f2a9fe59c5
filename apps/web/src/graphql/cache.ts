/**
 * The normalized cache. Jobs are entities keyed by id, so a `myJobs` event or a mutation result
 * updates every card, row and detail view that shows the job. What normalization cannot do on
 * its own is list membership (a new job joining the history, a job leaving the "queued" list),
 * so every job that arrives is also synced into the cached `jobs` lists here.
 */
import { type Cache, cacheExchange } from '@urql/exchange-graphcache';
import { relayPagination } from '@urql/exchange-graphcache/extras';
import { graphql, type ResultOf } from '@zimage/client/graphql';
import { isTerminalStatus } from '@zimage/contract';
import type { Job } from './operations.ts';

const JobEdgeNode = graphql(`
  fragment JobEdgeNode on JobEdge {
    node {
      id
    }
  }
`);

const PAGINATION_ARGS = new Set(['first', 'after', 'last', 'before']);

/** Whether the job belongs in a `jobs(...)` list; undefined for a filter this client can't evaluate. */
export function matchesJobFilter(job: Job, args: Record<string, unknown>): boolean | undefined {
  for (const [name, value] of Object.entries(args)) {
    if (value == null || PAGINATION_ARGS.has(name)) continue;
    if (name === 'status' || name === 'model') {
      if (job[name] !== value) return false;
    } else if (name === 'search') {
      // The gateway matches a case-insensitive substring of the prompt.
      if (!job.prompt.toLowerCase().includes(String(value).toLowerCase())) return false;
    } else {
      return undefined;
    }
  }
  return true;
}

const createdTime = (cache: Cache, jobKey: string) =>
  Date.parse(String(cache.resolve(jobKey, 'createdAt')));

/** Adds the job to, or removes it from, every cached page of `Query.jobs`. */
export function syncJobIntoLists(cache: Cache, job: Job): void {
  const jobKey = cache.keyOfEntity({ __typename: 'Job', id: job.id });
  if (!jobKey) return;
  const jobTime = Date.parse(job.createdAt);

  for (const field of cache.inspectFields('Query')) {
    if (field.fieldName !== 'jobs') continue;
    const args = field.arguments ?? {};
    const belongs = matchesJobFilter(job, args);
    if (belongs === undefined) {
      cache.invalidate('Query', field.fieldKey);
      continue;
    }
    const connection = cache.resolve('Query', field.fieldKey);
    if (typeof connection !== 'string') continue;
    const edges = (cache.resolve(connection, 'edges') as string[] | null) ?? [];
    const nodes = edges.map((edge) => cache.resolve(edge, 'node') as string);
    const index = nodes.indexOf(jobKey);

    if (index >= 0 && !belongs) {
      cache.link(connection, 'edges', edges.toSpliced(index, 1));
    } else if (index < 0 && belongs) {
      // Pages are newest first: the job goes in the page whose time range holds it.
      const times = nodes.map((node) => createdTime(cache, node));
      const pageInfo = cache.resolve(connection, 'pageInfo') as string | null;
      const hasNextPage = pageInfo ? cache.resolve(pageInfo, 'hasNextPage') === true : false;
      const isFirstPage = args.after == null && args.before == null;
      const first = times[0];
      const last = times.at(-1);
      if (first === undefined ? !isFirstPage : !isFirstPage && jobTime > first) continue;
      if (hasNextPage && last !== undefined && jobTime < last) continue;

      const edge = { __typename: 'JobEdge', node: { __typename: 'Job', id: job.id } };
      cache.writeFragment(JobEdgeNode, edge as ResultOf<typeof JobEdgeNode>);
      const edgeKey = cache.keyOfEntity(edge);
      if (!edgeKey) continue;
      const at = times.findIndex((time) => time < jobTime);
      cache.link(connection, 'edges', edges.toSpliced(at < 0 ? edges.length : at, 0, edgeKey));
    }
  }
}

/**
 * The gateway does not announce queue moves to the jobs that stay queued. When a job is not
 * (or no longer) in the gateway's queue, the positions of the others may have changed, so they
 * are invalidated and the lists showing them are fetched again.
 */
function refreshQueuePositions(cache: Cache, changed: Job): void {
  if (changed.queuePosition != null) return;
  for (const field of cache.inspectFields('Query')) {
    if (field.fieldName !== 'jobs') continue;
    const connection = cache.resolve('Query', field.fieldKey);
    if (typeof connection !== 'string') continue;
    for (const edge of (cache.resolve(connection, 'edges') as string[] | null) ?? []) {
      const node = cache.resolve(edge, 'node') as string;
      if (
        cache.resolve(node, 'id') !== changed.id &&
        cache.resolve(node, 'queuePosition') != null
      ) {
        cache.invalidate(node, 'queuePosition');
      }
    }
  }
}

/** Drops every cached `Query.<fieldName>(...)`, whatever its arguments; those on screen refetch. */
function invalidateField(cache: Cache, fieldName: string): void {
  for (const field of cache.inspectFields('Query')) {
    if (field.fieldName === fieldName) cache.invalidate('Query', field.fieldKey);
  }
}

/** The admin's figures that count money: usage reports and the keys' spend. */
const SPEND_FIELDS = ['usageReport', 'apiKeys'];

function jobChanged(cache: Cache, job: Job | null | undefined): void {
  if (!job) return;
  syncJobIntoLists(cache, job);
  refreshQueuePositions(cache, job);
  // Spend and jobs in flight move with every job change.
  cache.invalidate('Query', 'viewer');
  // A job is charged when it is accepted (QUEUED) and may be refunded when it ends; nothing in
  // between changes money, so a running job's events do not refetch the reports.
  if (job.status === 'QUEUED' || isTerminalStatus(job.status)) {
    for (const field of SPEND_FIELDS) invalidateField(cache, field);
  }
}

export const dashboardCache = () =>
  cacheExchange({
    keys: {
      // Value objects without an identity of their own live inside their parent.
      JobConnection: () => null,
      PageInfo: () => null,
      Image: () => null,
      Viewer: () => null,
      Usage: () => null,
      ModelInfo: (model) => String(model.id),
      ApiKeyConnection: () => null,
      ApiKeyEdge: () => null,
      ApiKeyLimits: () => null,
      // Holds the secret: embedded in its mutation's result only, never a cache entity.
      CreatedApiKey: () => null,
      UsageRow: () => null,
      AuditEntryConnection: () => null,
      AuditEntryEdge: () => null,
      // Keyed by their job so that an update can add an edge to a cached list.
      JobEdge: (edge) => {
        const node = edge.node as { id?: unknown } | null | undefined;
        return typeof node?.id === 'string' ? node.id : null;
      },
    },
    resolvers: {
      Query: {
        jobs: relayPagination(),
        // A job already in the cache (from a list or an event) opens without a request.
        job: (_parent, args) => ({ __typename: 'Job', id: args.id as string }),
      },
    },
    updates: {
      Mutation: {
        generateImage: (result, _args, cache) => jobChanged(cache, result.generateImage as Job),
        cancelJob: (result, _args, cache) => jobChanged(cache, result.cancelJob as Job),
        // A new key goes first in the list (newest first): the lists are fetched again. Every
        // change to a key is written to the audit log.
        createApiKey: (_result, _args, cache) => {
          invalidateField(cache, 'apiKeys');
          invalidateField(cache, 'auditLog');
        },
        updateApiKeyLimits: (_result, _args, cache) => invalidateField(cache, 'auditLog'),
        revokeApiKey: (_result, _args, cache) => invalidateField(cache, 'auditLog'),
      },
      Subscription: {
        myJobs: (result, _args, cache) => jobChanged(cache, result.myJobs as Job),
      },
    },
  });

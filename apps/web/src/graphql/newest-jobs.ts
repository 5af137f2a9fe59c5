/**
 * A job's state on screen only moves forward. The gateway publishes a job's events over the
 * WebSocket while an HTTP answer holding an earlier state of the same job can still be on its
 * way: `generateImage` answers after the job's first event, and dispatch may have sent the job to
 * Pixazo (a `requestId`, no more `queuePosition`) within milliseconds. Normalized, that older
 * answer arriving last would overwrite the newer state in the cache (a card offering Cancel
 * again until the next event). This exchange sits between the cache and the transport and
 * rewrites every job in a result that is older, by `updatedAt`, than the newest state seen of
 * it, so the cache never writes a job backwards.
 */
import { type Exchange, mapExchange } from 'urql';

type Data = Record<string, unknown>;

/** Enough for every job a session shows; the oldest entries go first. */
const REMEMBERED_JOBS = 5000;

const isObject = (value: unknown): value is Data => typeof value === 'object' && value !== null;

const isJob = (value: Data): value is Data & { id: string; updatedAt: string } =>
  value.__typename === 'Job' && typeof value.id === 'string' && typeof value.updatedAt === 'string';

export function newestJobsExchange(): Exchange {
  const newest = new Map<string, Data>();

  function remember(id: string, job: Data): void {
    newest.delete(id);
    newest.set(id, job);
    if (newest.size > REMEMBERED_JOBS) newest.delete(newest.keys().next().value as string);
  }

  function visit(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(visit);
    if (!isObject(value)) return value;
    const visited: Data = {};
    for (const [key, field] of Object.entries(value)) visited[key] = visit(field);
    if (!isJob(visited)) return visited;

    const seen = newest.get(visited.id);
    const seenAt = seen ? Date.parse(String(seen.updatedAt)) : Number.NEGATIVE_INFINITY;
    const at = Date.parse(visited.updatedAt);
    if (seen && seenAt > at) {
      // Older than what the cache holds: the fields asked for, from the newer state.
      for (const key of Object.keys(visited)) if (key in seen) visited[key] = seen[key];
      return visited;
    }
    remember(visited.id, seen && seenAt === at ? { ...seen, ...visited } : visited);
    return visited;
  }

  return mapExchange({
    onResult: (result) => (result.data ? { ...result, data: visit(result.data) } : result),
  });
}

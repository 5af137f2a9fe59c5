/**
 * What a caller may do and see. Scopes gate fields; visibility (jobs/job-access.ts) decides
 * which jobs exist for the caller: another caller's job is reported exactly like a missing one.
 */

import type { JobRecord } from '../domain/job.ts';
import { hasScope, type Principal, type Scope } from '../domain/principal.ts';
import { GatewayError } from '../errors.ts';
import { canAccessJob } from '../jobs/job-access.ts';
import type { JobFilter } from '../store/store.ts';
import type { GatewayContext } from './builder.ts';

/** The `endUserId` argument of queries and subscriptions; applied at admission. */
export const ACT_FOR_END_USER =
  'Act for this end user (needs the act-as scope): only their jobs, their usage and limits.';

export function requirePrincipal(context: GatewayContext): Principal {
  if (context.principal === null) {
    throw new GatewayError(
      'UNAUTHENTICATED',
      'An API key is required: send the header "Authorization: Bearer <api key>"',
    );
  }
  return context.principal;
}

export function requireScope(context: GatewayContext, scope: Scope): Principal {
  const principal = requirePrincipal(context);
  if (!hasScope(principal.key, scope)) {
    throw new GatewayError('FORBIDDEN', `This API key lacks the ${scope} scope`);
  }
  return principal;
}

/** The job when the caller may see it; null when it does not exist or is someone else's. */
export async function findVisibleJob(
  context: GatewayContext,
  principal: Principal,
  id: string,
): Promise<JobRecord | null> {
  const job = await context.store.getJob(id);
  return job !== null && canAccessJob(principal, job) ? job : null;
}

export async function getVisibleJob(
  context: GatewayContext,
  principal: Principal,
  id: string,
): Promise<JobRecord> {
  const job = await findVisibleJob(context, principal, id);
  if (job === null) throw new GatewayError('NOT_FOUND', `No job with id ${id}`, { id });
  return job;
}

/** The store filter that lists exactly the jobs the caller may see. */
export function visibleJobsFilter(
  principal: Principal,
): Pick<JobFilter, 'ownerKeyId' | 'endUserId'> {
  const endUserId = principal.endUserId ?? undefined;
  if (hasScope(principal.key, 'admin')) return { endUserId };
  return { ownerKeyId: principal.key.id, endUserId };
}

/**
 * Callers with the same key see the same jobs, so results computed for one of them are right
 * for all (shared subscriptions rely on it). Admins see everything, whichever key they use.
 */
export function visibilityKey(principal: Principal): string {
  const who = hasScope(principal.key, 'admin') ? 'admin' : `key:${principal.key.id}`;
  return principal.endUserId === null ? who : `${who}|user:${principal.endUserId}`;
}

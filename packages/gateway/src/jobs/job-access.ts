/**
 * Who may see or act on a job: admins, and otherwise the key that created it — narrowed to the
 * end user when the key acts for one. Anyone else is told the job does not exist, so job ids
 * reveal nothing about other callers.
 */

import type { JobRecord } from '../domain/job.ts';
import { hasScope, type Principal } from '../domain/principal.ts';

export function canAccessJob(principal: Principal, job: JobRecord): boolean {
  if (hasScope(principal.key, 'admin')) return true;
  if (job.ownerKeyId !== principal.key.id) return false;
  return principal.endUserId === null || job.endUserId === principal.endUserId;
}

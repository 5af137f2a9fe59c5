/** Who is calling: an API key, and the end user it acts for when it has the act-as scope. */

import type { Scope } from '@zimage/contract';

export { SCOPES, type Scope } from '@zimage/contract';

export interface Limits {
  /** null: no limit. */
  dailyBudgetMicroUsd: number | null;
  maxConcurrentJobs: number | null;
  requestsPerMinute: number | null;
}

export interface ApiKeyRecord {
  /** `key_<uuidv7 hex>`; safe to show and log. */
  id: string;
  name: string;
  /** SHA-256 (hex) of the secret; the secret itself is never stored. */
  secretHash: string;
  /** First characters of the secret (e.g. `zk_4f2a`), to recognise a key in lists. */
  prefix: string;
  scopes: Scope[];
  /** Limits of the key as a whole. */
  limits: Limits;
  /** Limits applied to each end user the key acts for (act-as keys). */
  endUserLimits: Limits;
  createdAt: Date;
  revokedAt: Date | null;
}

export interface Principal {
  key: ApiKeyRecord;
  /** Set when an act-as key acts for an end user. */
  endUserId: string | null;
}

export function hasScope(key: ApiKeyRecord, scope: Scope): boolean {
  return key.scopes.includes('admin') || key.scopes.includes(scope);
}

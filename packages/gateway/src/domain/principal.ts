/** Who is calling: an API key, and the end user it acts for when it has the act-as scope. */

import type { Scope } from '@zimage/contract';
import type { ModelKey } from '@zimage/core';

export { SCOPES, type Scope } from '@zimage/contract';

export interface Limits {
  /** null: no limit. */
  dailyBudgetMicroUsd: number | null;
  maxConcurrentJobs: number | null;
  requestsPerMinute: number | null;
}

/** The limits of a key as a whole: those of an end user, and two that only a key has. */
export interface KeyLimits extends Limits {
  /** Spending per UTC calendar month; null: no limit. */
  monthlyBudgetMicroUsd: number | null;
  /** The models the key may use; null: every model. */
  allowedModels: ModelKey[] | null;
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
  limits: KeyLimits;
  /** Limits applied to each end user the key acts for (act-as keys). */
  endUserLimits: Limits;
  createdAt: Date;
  /** Recorded at most about once a minute (auth/last-use.ts), so up to a minute behind. */
  lastUsedAt: Date | null;
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

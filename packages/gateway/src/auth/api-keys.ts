/**
 * API keys: generation, hashing, creation, and the admin key made at start-up. Only a
 * key's hash is stored; its secret is shown once, when the key is created.
 */
import { createHash, randomBytes } from 'node:crypto';
import { MODEL_KEYS } from '@zimage/core';
import type { AuditActor } from '../domain/audit.ts';
import { type FlatLimits, flatLimits, type LimitsPatch } from '../domain/key-limits.ts';
import {
  type ApiKeyRecord,
  type KeyLimits,
  type Limits,
  SCOPES,
  type Scope,
} from '../domain/principal.ts';
import { badUserInput } from '../errors.ts';
import { newId } from '../ids.ts';
import type { Store } from '../store/store.ts';

const SECRET_MARKER = 'zk_';
/** Shown in key lists to recognise a key: the marker and 4 characters (24 of 256 bits). */
const PREFIX_LENGTH = SECRET_MARKER.length + 4;
const NAME_MAX_LENGTH = 100;

/** No limit at all; a key's (KeyLimits) and, being a superset, an end user's (Limits) too. */
export const NO_LIMITS: KeyLimits = Object.freeze({
  dailyBudgetMicroUsd: null,
  monthlyBudgetMicroUsd: null,
  maxConcurrentJobs: null,
  requestsPerMinute: null,
  allowedModels: null,
});

/** A new secret: `zk_` and 32 random bytes in base64url (256 bits). */
export function generateApiKey(): string {
  return SECRET_MARKER + randomBytes(32).toString('base64url');
}

/**
 * SHA-256 (hex) of a secret, the form it is stored and looked up in. A fast hash is right
 * here, unlike for passwords: a generated secret has 256 random bits, far beyond any brute
 * force whatever the hash costs, so a slow KDF (bcrypt, argon2) would add milliseconds to every
 * request for no protection. Being deterministic, the hash is also what the unique index finds.
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export interface NewApiKey {
  name: string;
  scopes: readonly Scope[];
  /** Unset fields: no limit. */
  limits?: Partial<KeyLimits> | undefined;
  endUserLimits?: Partial<Limits> | undefined;
}

export interface CreatedApiKey {
  record: ApiKeyRecord;
  /** The only time the secret exists outside its owner's hands: show it, never store it. */
  secret: string;
}

/**
 * Creates a key with a new secret; with an `actor`, its creation goes to the audit log in the
 * same transaction. Throws BAD_USER_INPUT (naming the field) for bad input.
 */
export async function createApiKey(
  store: Store,
  input: NewApiKey,
  actor?: AuditActor,
): Promise<CreatedApiKey> {
  const secret = generateApiKey();
  const record = keyRecord(input, secret);
  await store.createApiKey(
    record,
    actor === undefined
      ? undefined
      : {
          id: newId('audit'),
          at: record.createdAt,
          action: 'create_api_key',
          actor,
          apiKeyId: record.id,
          details: { name: record.name, scopes: record.scopes, limits: flatLimits(record) },
        },
  );
  return { record, secret };
}

/** The record of a new key with `secret`, once its input is valid. */
function keyRecord(input: NewApiKey, secret: string): ApiKeyRecord {
  const name = input.name.trim();
  if (name.length === 0 || name.length > NAME_MAX_LENGTH) {
    throw badUserInput('name', `A key name must be 1 to ${NAME_MAX_LENGTH} characters`);
  }
  const unknown = input.scopes.find((s) => !SCOPES.includes(s));
  if (unknown !== undefined || input.scopes.length === 0) {
    throw badUserInput(
      'scopes',
      `Scopes must be one or more of ${SCOPES.join(', ')}${unknown === undefined ? '' : ` (got "${unknown}")`}`,
    );
  }
  const limits: KeyLimits = { ...NO_LIMITS, ...input.limits };
  const endUserLimits: Limits = {
    dailyBudgetMicroUsd: input.endUserLimits?.dailyBudgetMicroUsd ?? null,
    maxConcurrentJobs: input.endUserLimits?.maxConcurrentJobs ?? null,
    requestsPerMinute: input.endUserLimits?.requestsPerMinute ?? null,
  };
  checkLimits('limits', limits);
  checkLimits('endUserLimits', endUserLimits);
  return {
    id: newId('key'),
    name,
    secretHash: hashSecret(secret),
    prefix: secret.slice(0, PREFIX_LENGTH),
    scopes: [...new Set(input.scopes)],
    limits: {
      ...limits,
      allowedModels: limits.allowedModels === null ? null : [...new Set(limits.allowedModels)],
    },
    endUserLimits,
    createdAt: new Date(),
    lastUsedAt: null,
    revokedAt: null,
  };
}

/**
 * The least each limit may be: a budget may be 0 (nothing may be spent); a cap of 0 jobs or
 * requests would be a revoked key.
 */
const LIMIT_MINIMUMS: Record<Exclude<keyof KeyLimits, 'allowedModels'>, number> = {
  dailyBudgetMicroUsd: 0,
  monthlyBudgetMicroUsd: 0,
  maxConcurrentJobs: 1,
  requestsPerMinute: 1,
};

/** Which rule each flat limit follows. */
const FLAT_RULES: Record<
  Exclude<keyof FlatLimits, 'allowedModels'>,
  keyof typeof LIMIT_MINIMUMS
> = {
  dailyBudgetMicroUsd: 'dailyBudgetMicroUsd',
  monthlyBudgetMicroUsd: 'monthlyBudgetMicroUsd',
  maxConcurrentJobs: 'maxConcurrentJobs',
  requestsPerMinute: 'requestsPerMinute',
  endUserDailyBudgetMicroUsd: 'dailyBudgetMicroUsd',
  endUserMaxConcurrentJobs: 'maxConcurrentJobs',
  endUserRequestsPerMinute: 'requestsPerMinute',
};

function checkLimit(field: string, rule: keyof typeof LIMIT_MINIMUMS, value: number | null): void {
  const min = LIMIT_MINIMUMS[rule];
  if (value !== null && !(Number.isSafeInteger(value) && value >= min)) {
    throw badUserInput(field, `${field} must be an integer ≥ ${min} or null (no limit)`);
  }
}

/** null is every model; a list must name at least one model, each once. */
function checkAllowedModels(field: string, models: KeyLimits['allowedModels']): void {
  if (models === null) return;
  if (models.length === 0 || models.some((model) => !MODEL_KEYS.includes(model))) {
    throw badUserInput(
      field,
      `${field} must list one or more of ${MODEL_KEYS.join(', ')}, or be null for every model`,
    );
  }
}

function checkLimits(field: string, limits: Partial<KeyLimits>): void {
  for (const rule of Object.keys(LIMIT_MINIMUMS) as (keyof typeof LIMIT_MINIMUMS)[]) {
    checkLimit(`${field}.${rule}`, rule, limits[rule] ?? null);
  }
  checkAllowedModels(`${field}.allowedModels`, limits.allowedModels ?? null);
}

/**
 * Throws BAD_USER_INPUT for a bad value in `patch`, naming the field as `fieldName` spells it
 * (the caller's names: GraphQL input fields, CLI flags). Returns the patch with its model list
 * deduplicated.
 */
export function checkLimitsPatch(
  patch: LimitsPatch,
  fieldName: (name: keyof FlatLimits) => string,
): LimitsPatch {
  for (const [name, rule] of Object.entries(FLAT_RULES) as [
    keyof typeof FLAT_RULES,
    keyof typeof LIMIT_MINIMUMS,
  ][]) {
    const value = patch[name];
    if (value !== undefined) checkLimit(fieldName(name), rule, value);
  }
  if (patch.allowedModels === undefined) return patch;
  checkAllowedModels(fieldName('allowedModels'), patch.allowedModels);
  return {
    ...patch,
    allowedModels: patch.allowedModels === null ? null : [...new Set(patch.allowedModels)],
  };
}

export interface AdminKeyOutcome {
  /** True when this call created the admin key. */
  created: boolean;
  /**
   * Set only when ADMIN_API_KEY is unset and no admin key existed: the new key's secret, for
   * start-up to print once (it cannot be recovered later).
   */
  generatedSecret: string | null;
}

/**
 * Makes sure an admin can log in. With ADMIN_API_KEY: that secret is an unrevoked admin key
 * (created on first start). Without it: an admin key is generated when no unrevoked one
 * exists. Throws (one line) when ADMIN_API_KEY names a revoked or non-admin key, because
 * starting without the admin access the operator configured would fail later and less clearly.
 */
export async function ensureAdminKey(
  store: Store,
  adminSecret: string | undefined,
): Promise<AdminKeyOutcome> {
  if (adminSecret !== undefined) {
    // Create-if-absent in one step: instances starting at once with the same ADMIN_API_KEY
    // all succeed, and one key is stored.
    const { created, key: existing } = await store.createApiKeyIfAbsent(
      keyRecord({ name: 'admin', scopes: ['admin'] }, adminSecret),
    );
    if (created) return { created: true, generatedSecret: null };
    if (existing.revokedAt !== null) {
      throw new Error(
        `ADMIN_API_KEY is key ${existing.id}, which was revoked; set ADMIN_API_KEY to a new secret`,
      );
    }
    if (!existing.scopes.includes('admin')) {
      throw new Error(
        `ADMIN_API_KEY is key ${existing.id}, which lacks the admin scope; set ADMIN_API_KEY to a new secret`,
      );
    }
    return { created: false, generatedSecret: null };
  }
  const keys = await store.listApiKeys();
  if (keys.some((k) => k.revokedAt === null && k.scopes.includes('admin'))) {
    return { created: false, generatedSecret: null };
  }
  const { secret } = await createApiKey(store, { name: 'admin', scopes: ['admin'] });
  return { created: true, generatedSecret: secret };
}

/**
 * The dashboard URL that signs in with `secret`. The secret rides in the fragment (`#key=`),
 * which browsers never send to a server, so it stays out of access logs and Referer headers.
 */
export function dashboardSignInUrl(dashboardUrl: string, secret: string): string {
  const url = new URL(dashboardUrl);
  url.hash = `key=${encodeURIComponent(secret)}`;
  return url.toString();
}

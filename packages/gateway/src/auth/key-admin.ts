/**
 * Changing and revoking keys on behalf of an operator, through the admin API or the keys CLI:
 * each change is written with its audit entry, in one transaction.
 */
import type { AuditActor } from '../domain/audit.ts';
import type { LimitsPatch } from '../domain/key-limits.ts';
import type { ApiKeyRecord } from '../domain/principal.ts';
import { newId } from '../ids.ts';
import type { Store } from '../store/store.ts';

/** The key with `patch` applied (absent: kept, null: cleared); null when there is no such key. */
export function updateKeyLimits(
  store: Store,
  id: string,
  patch: LimitsPatch,
  actor: AuditActor,
): Promise<ApiKeyRecord | null> {
  return store.updateApiKeyLimits(id, patch, {
    id: newId('audit'),
    at: new Date(),
    action: 'update_api_key_limits',
    actor,
    apiKeyId: id,
  });
}

/**
 * Revokes the key; false when there is no such unrevoked key. Gateways stop accepting it within
 * their key cache's lifetime, and end its open subscriptions (auth/revocation-sweep.ts).
 */
export function revokeKey(store: Store, id: string, actor: AuditActor): Promise<boolean> {
  return store.revokeApiKey(id, {
    id: newId('audit'),
    at: new Date(),
    action: 'revoke_api_key',
    actor,
    apiKeyId: id,
    details: {},
  });
}

/** How an admin key appears in the audit log. */
export const apiActor = (key: ApiKeyRecord): AuditActor => ({
  keyId: key.id,
  label: `${key.id} (${key.name})`,
});

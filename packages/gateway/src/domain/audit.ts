/**
 * The audit log of key administration: who did what to which key, and when, whether through
 * the admin API or the keys CLI. Entries are written in the same transaction as the change.
 */

export const AUDIT_ACTIONS = ['create_api_key', 'update_api_key_limits', 'revoke_api_key'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Who acted. */
export interface AuditActor {
  /** The admin API key that acted; null for the keys CLI. */
  keyId: string | null;
  /** For people: `key_… (name)` for the API, `keys CLI (user@host)` for the CLI. */
  label: string;
}

export interface AuditRecord {
  /** `audit_<uuidv7 hex>`: newest first is by id. */
  id: string;
  at: Date;
  action: AuditAction;
  actor: AuditActor;
  /** The key acted on. */
  apiKeyId: string;
  /**
   * What changed, as JSON: for a creation the key's name, scopes and limits, for a limits
   * change `{ <limit>: { from, to } }` of the limits that changed (money in micro-USD).
   */
  details: Record<string, unknown>;
}

/** An entry without its details, for a store to complete with what the change did. */
export type AuditDraft = Omit<AuditRecord, 'details'>;

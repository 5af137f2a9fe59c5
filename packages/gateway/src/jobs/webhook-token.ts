/**
 * The secret in a job's Pixazo callback URL. Pixazo does not sign its callbacks, so the URL
 * itself is the credential: 32 random bytes per job, of which only the SHA-256 is stored, so a
 * leaked database cannot forge callbacks. Callbacks are still confirmed with a status GET
 * before they are trusted; the token only keeps strangers from triggering those GETs.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const WEBHOOK_PATH_PREFIX = '/webhooks/pixazo';

export function newWebhookToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashWebhookToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Stands in for the stored hash of a job that has none (unknown, or polled); matches no token. */
const NO_STORED_HASH = Buffer.alloc(32);

/**
 * Constant-time: comparing fixed-length digests leaks nothing about the stored one. Without a
 * stored hash the same work is done and the answer is false, so a caller cannot time whether
 * the job exists.
 */
export function webhookTokenMatches(token: string, storedHash: string | null): boolean {
  const given = Buffer.from(hashWebhookToken(token), 'hex');
  const stored = storedHash === null ? NO_STORED_HASH : Buffer.from(storedHash, 'hex');
  const equal = given.length === stored.length && timingSafeEqual(given, stored);
  return equal && storedHash !== null;
}

/** `${publicUrl}/webhooks/pixazo/<jobId>/<token>`: the X-Webhook-URL of one job. */
export function webhookUrl(publicUrl: string, jobId: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}${WEBHOOK_PATH_PREFIX}/${jobId}/${token}`;
}

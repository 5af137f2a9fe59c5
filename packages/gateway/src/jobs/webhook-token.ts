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

/** Constant-time: comparing fixed-length digests leaks nothing about the stored one. */
export function webhookTokenMatches(token: string, storedHash: string): boolean {
  const given = Buffer.from(hashWebhookToken(token), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}

/** `${publicUrl}/webhooks/pixazo/<jobId>/<token>`: the X-Webhook-URL of one job. */
export function webhookUrl(publicUrl: string, jobId: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}${WEBHOOK_PATH_PREFIX}/${jobId}/${token}`;
}

/**
 * Each API key's webhook signing secret (`whsec_` + base64 of 24 random bytes, as the Standard
 * Webhooks spec writes them). Unlike the API key itself it cannot be stored as a hash, since the
 * gateway signs with it; so it is stored sealed: AES-256-GCM under the sealing key
 * (WEBHOOK_SECRETS_KEY, else a random key kept in DATA_DIR/webhook-secrets.key, mode 0600),
 * bound to its key id. A copy of the database alone does not reveal it. It is never logged.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Store } from '../store/store.ts';

const PREFIX = 'whsec_';
const SEALED_VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const SEALING_KEY_BYTES = 32;
export const SEALING_KEY_FILE = 'webhook-secrets.key';

export interface WebhookSecrets {
  /** The key's secret, created on first use. */
  get(keyId: string): Promise<string>;
  /** A new secret for the key; the old one signs nothing from now on. */
  rotate(keyId: string): Promise<string>;
}

export function newSigningSecret(): string {
  return `${PREFIX}${randomBytes(24).toString('base64')}`;
}

/**
 * `webhook-signature` of a message as the Standard Webhooks spec signs it: HMAC-SHA256 of
 * `<id>.<timestamp>.<body>` keyed with the secret's base64 part.
 */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.slice(PREFIX.length), 'base64');
  const mac = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/**
 * The sealing key: `configured` (WEBHOOK_SECRETS_KEY, base64 of 32 bytes) or the key file in
 * `dataDir`, created on first start. Instances sharing a database must share this key.
 */
export async function loadSealingKey(configured: string | null, dataDir: string): Promise<Buffer> {
  if (configured !== null) return Buffer.from(configured, 'base64');
  const file = path.join(dataDir, SEALING_KEY_FILE);
  try {
    return Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  // 'wx': of two processes creating it at once, one writes and the other reads its key.
  const key = randomBytes(SEALING_KEY_BYTES);
  try {
    await writeFile(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
  }
}

function seal(sealingKey: Buffer, keyId: string, secret: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', sealingKey, iv).setAAD(Buffer.from(keyId));
  const sealed = Buffer.concat([
    cipher.update(secret, 'utf8'),
    cipher.final(),
    cipher.getAuthTag(),
  ]);
  return `${SEALED_VERSION}.${iv.toString('base64url')}.${sealed.toString('base64url')}`;
}

function open(sealingKey: Buffer, keyId: string, text: string): string {
  const [version, iv, sealed] = text.split('.');
  if (version !== SEALED_VERSION || iv === undefined || sealed === undefined) {
    throw new Error(`The webhook signing secret of ${keyId} is not in a known format`);
  }
  const bytes = Buffer.from(sealed, 'base64url');
  try {
    const decipher = createDecipheriv('aes-256-gcm', sealingKey, Buffer.from(iv, 'base64url'))
      .setAAD(Buffer.from(keyId))
      .setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    return Buffer.concat([
      decipher.update(bytes.subarray(0, bytes.length - TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    throw new Error(
      `The webhook signing secret of ${keyId} cannot be unsealed: every instance needs the same WEBHOOK_SECRETS_KEY`,
    );
  }
}

export function createWebhookSecrets(store: Store, sealingKey: Buffer): WebhookSecrets {
  if (sealingKey.length !== SEALING_KEY_BYTES) {
    throw new RangeError(`The webhook sealing key must be ${SEALING_KEY_BYTES} bytes`);
  }
  const storeNew = async (keyId: string, replace: boolean) => {
    const stored = await store.setWebhookSecret(
      keyId,
      seal(sealingKey, keyId, newSigningSecret()),
      replace,
    );
    if (stored === null) throw new Error(`No API key ${keyId}`);
    return open(sealingKey, keyId, stored);
  };
  return {
    async get(keyId) {
      const stored = await store.webhookSecret(keyId);
      // Created once: of two first uses at once, both get the one stored first.
      return stored === null ? storeNew(keyId, false) : open(sealingKey, keyId, stored);
    },
    rotate: (keyId) => storeNew(keyId, true),
  };
}

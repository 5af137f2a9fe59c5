/**
 * Short-lived download links: a browser's `<a href download>` cannot send the API key, and a key
 * in a URL ends up in histories and logs. So a client with its key asks `POST /downloads` for a
 * token, which names what to download and for whom, expires in minutes and is signed with
 * HMAC-SHA256 under a key derived (HKDF) from the gateway's sealing key, the same on every
 * instance. The token grants nothing its key could not read, and the key is re-checked (not
 * revoked) when it is used.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { JobStatus } from '../domain/job.ts';

export interface DownloadSpec {
  keyId: string;
  endUserId: string | null;
  /** One job's images, or the jobs matching the filter (newest first, at most `first`). */
  jobId?: string | undefined;
  status?: JobStatus | undefined;
  model?: string | undefined;
  search?: string | undefined;
  first?: number | undefined;
}

export interface DownloadTokens {
  issue(spec: DownloadSpec, now: Date): { token: string; expiresAt: Date };
  /** The spec of a valid, unexpired token; null otherwise. */
  verify(token: string, now: Date): DownloadSpec | null;
}

export const DOWNLOAD_TOKEN_TTL_MS = 5 * 60_000;

export function createDownloadTokens(sealingKey: Uint8Array): DownloadTokens {
  const key = Buffer.from(hkdfSync('sha256', sealingKey, '', 'zimage download tokens', 32));
  const sign = (payload: string) => createHmac('sha256', key).update(payload).digest('base64url');
  return {
    issue(spec, now) {
      const expiresAt = new Date(now.getTime() + DOWNLOAD_TOKEN_TTL_MS);
      const payload = Buffer.from(JSON.stringify({ ...spec, exp: expiresAt.getTime() })).toString(
        'base64url',
      );
      return { token: `${payload}.${sign(payload)}`, expiresAt };
    },
    verify(token, now) {
      const [payload = '', mac = '', ...rest] = token.split('.');
      if (rest.length > 0 || payload === '' || token.length > 4096) return null;
      const expected = Buffer.from(sign(payload));
      const given = Buffer.from(mac);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
      const { exp, ...spec } = JSON.parse(
        Buffer.from(payload, 'base64url').toString('utf8'),
      ) as DownloadSpec & { exp: number };
      return exp > now.getTime() ? spec : null;
    },
  };
}

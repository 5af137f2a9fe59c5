/**
 * The requests the simulator received (control requests excepted), so tests can count what a
 * client really sent. Only the latest `requestLogSize` entries are kept.
 */
import type { RingLog } from './ring-log.ts';

export type RouteKind = 'submit' | 'status' | 'media' | 'unknown';

export interface RequestLogEntry {
  /** ISO time of arrival. */
  at: string;
  method: string;
  /** Path without the query string. */
  path: string;
  route: RouteKind;
  /** Fingerprint of the `Ocp-Apim-Subscription-Key` sent (see `keyFingerprint`), never the key. */
  keyId: string | null;
  /** The status answered; null while in flight or when the connection was dropped. */
  status: number | null;
  /** The simulator dropped the connection instead of answering (a fault). */
  dropped: boolean;
}

export type RequestFilter = Partial<
  Pick<RequestLogEntry, 'method' | 'path' | 'route' | 'keyId' | 'status'>
>;

export type RequestLog = RingLog<RequestLogEntry>;

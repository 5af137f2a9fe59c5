/**
 * The HTTP validators and byte ranges of an immutable resource (RFC 9110 §13–14): whether a
 * conditional GET may answer 304, and which single range a `Range` header asks for. Several
 * ranges in one request are answered with the whole body, as the RFC allows.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ByteRange } from '../images/image-store.ts';

export interface Validators {
  /** A strong entity tag, quoted. */
  etag: string;
  lastModified: Date;
}

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

/** True when the client's copy is current: If-None-Match, else If-Modified-Since. */
export function notModified(headers: IncomingHttpHeaders, validators: Validators): boolean {
  const noneMatch = headers['if-none-match'];
  if (noneMatch !== undefined) {
    return noneMatch
      .split(',')
      .map((tag) => tag.trim().replace(/^W\//, ''))
      .some((tag) => tag === '*' || tag === validators.etag);
  }
  const since = Date.parse(headers['if-modified-since'] ?? '');
  return !Number.isNaN(since) && seconds(validators.lastModified) <= Math.floor(since / 1000);
}

/**
 * The range to send: null for the whole body (no Range, several ranges, or an If-Range that
 * no longer matches), 'unsatisfiable' for a range outside the body.
 */
export function requestedRange(
  headers: IncomingHttpHeaders,
  size: number,
  validators: Validators,
): ByteRange | 'unsatisfiable' | null {
  const header = headers.range;
  if (header === undefined) return null;
  const ifRange = headers['if-range'];
  if (typeof ifRange === 'string') {
    const current = ifRange.startsWith('"')
      ? ifRange === validators.etag
      : Date.parse(ifRange) === seconds(validators.lastModified) * 1000;
    if (!current) return null;
  }
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return null;
  const [, first, last] = match;
  if (first === '' && last === '') return null;
  if (first === '') {
    // The last N bytes.
    const length = Number(last);
    if (length === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

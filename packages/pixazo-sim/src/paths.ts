/**
 * The URL shapes the simulator serves, built and parsed in one place so that the URLs it hands
 * out (polling_url, media_url) always match the routes it answers.
 */
import { OUTPUT_FORMATS, type OutputFormat } from '@zimage/pixazo-spec';

export const STATUS_PATH_PREFIX = '/v2/requests/status/';
export const CONTROL_PATH_PREFIX = '/_sim/';
const MEDIA_PATH_PREFIX = '/cdn/v1/';

export function statusPath(requestId: string): string {
  return `${STATUS_PATH_PREFIX}${encodeURIComponent(requestId)}`;
}

/** Where image `index` (0-based) of a completed job is served: the stand-in for Pixazo's CDN. */
export function mediaPath(requestId: string, index: number, format: OutputFormat): string {
  return `${MEDIA_PATH_PREFIX}${encodeURIComponent(requestId)}/${index}.${format}`;
}

export interface MediaRef {
  requestId: string;
  index: number;
  format: OutputFormat;
}

const MEDIA_PATH = /^\/cdn\/v1\/([^/]+)\/(\d{1,2})\.([a-z]+)$/;

export function parseMediaPath(pathname: string): MediaRef | null {
  const match = MEDIA_PATH.exec(pathname);
  if (!match) return null;
  const [, id = '', index = '', format = ''] = match;
  const requestId = decodeSegment(id);
  if (requestId === null || !(OUTPUT_FORMATS as readonly string[]).includes(format)) return null;
  return { requestId, index: Number(index), format: format as OutputFormat };
}

/** The request id of a status path, or null when the path is not one. */
export function parseStatusPath(pathname: string): string | null {
  if (!pathname.startsWith(STATUS_PATH_PREFIX)) return null;
  const id = pathname.slice(STATUS_PATH_PREFIX.length);
  return id.length > 0 && !id.includes('/') ? decodeSegment(id) : null;
}

/** A percent-decoded path segment, or null when its encoding is malformed. */
export function decodeSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

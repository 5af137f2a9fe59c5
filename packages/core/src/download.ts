/**
 * Fetching a job's media URLs. The bytes must really be a PNG, JPEG or WebP: Pixazo declares
 * `application/octet-stream`, so the type is read from magic bytes, and a declared image type
 * must agree with them. The size cap is enforced while streaming, so an oversized body is cut
 * off at the cap instead of being buffered. The API key is never sent to media hosts.
 */
import { CONTENT_TYPES, type OutputFormat, PixazoError } from '@zimage/pixazo-spec';
import { concatBytes } from './concat-bytes.ts';
import { DownloadError } from './errors.ts';
import type { FetchFn } from './http.ts';
import { abortErrorFrom } from './signal.ts';

export const DEFAULT_MAX_DOWNLOAD_BYTES = 50 * 1024 * 1024;
export const DEFAULT_DOWNLOAD_TIMEOUT_MS = 120_000;

export interface DownloadOptions {
  signal?: AbortSignal | undefined;
  /** Largest accepted body; default 50 MiB. */
  maxBytes?: number | undefined;
  /** For the whole download, headers to last byte; default 120 s. */
  timeoutMs?: number | undefined;
  fetch?: FetchFn | undefined;
  /** The Pixazo request id the media belongs to, for error reports. */
  requestId?: string | undefined;
}

export interface DownloadedImage {
  url: string;
  /** Read from the bytes, not from the server's header. */
  format: OutputFormat;
  contentType: string;
  bytes: Uint8Array;
}

const DECLARED_FORMATS: Readonly<Record<string, OutputFormat>> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/webp': 'webp',
};

/** Types that say nothing about the format, so the bytes decide. */
const UNTYPED = new Set(['', 'application/octet-stream', 'binary/octet-stream']);

function startsWith(bytes: Uint8Array, prefix: readonly number[], offset = 0): boolean {
  return prefix.every((b, i) => bytes[offset + i] === b);
}

/** The image format of `bytes` by its magic number, or undefined for anything else. */
export function sniffImageFormat(bytes: Uint8Array): OutputFormat | undefined {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  // RIFF....WEBP
  if (
    startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) &&
    startsWith(bytes, [0x57, 0x45, 0x42, 0x50], 8)
  ) {
    return 'webp';
  }
  return undefined;
}

function where(url: string): string {
  const { origin, pathname } = new URL(url);
  return `${origin}${pathname}`;
}

/** A media download whose headers passed the checks, its body not yet read. */
export interface ImageDownload {
  url: string;
  /** Read from the first bytes, not from the server's header. */
  format: OutputFormat;
  contentType: string;
  /**
   * The whole body, first bytes included, read once. Past the size cap, a network failure or
   * the timeout, its iteration throws a DownloadError (or AbortError), never a partial end.
   */
  body: AsyncIterable<Uint8Array>;
}

/** Enough bytes to tell PNG, JPEG and WebP apart. */
const SNIFF_BYTES = 12;

/**
 * Downloads one media URL and hands its checked body to `consume` as a stream (e.g. into an
 * image store), so the image is never whole in memory. Every failure of the download itself is
 * a DownloadError, AbortError or TimeoutError; `consume`'s own errors pass as they are.
 */
export async function streamImage<T>(
  url: string,
  consume: (download: ImageDownload) => Promise<T>,
  options: DownloadOptions = {},
): Promise<T> {
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw new DownloadError('Media URL is not an http(s) URL', {
      url,
      transient: false,
      requestId: options.requestId,
    });
  }
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_DOWNLOAD_BYTES;
  const timeoutMs = options.timeoutMs ?? DEFAULT_DOWNLOAD_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const fail = (
    message: string,
    transient: boolean,
    extra: { status?: number; cause?: unknown } = {},
  ) =>
    new DownloadError(`Download of ${where(url)} failed: ${message}`, {
      url,
      transient,
      requestId: options.requestId,
      ...extra,
    });
  /** A failure while fetching or reading, as one of this function's errors. */
  const failure = (error: unknown): Error => {
    if (error instanceof PixazoError) return error;
    if (options.signal?.aborted) return abortErrorFrom(options.signal);
    if (timeout.aborted)
      return fail(`no complete answer within ${timeoutMs} ms`, true, { cause: error });
    return fail(error instanceof Error ? error.message : 'network error', true, { cause: error });
  };
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let head: Uint8Array;
  let format: OutputFormat;
  try {
    const response = await (options.fetch ?? globalThis.fetch)(url, { signal });
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      const transient = response.status === 429 || response.status >= 500;
      throw fail(`HTTP ${response.status}`, transient, { status: response.status });
    }
    const declared =
      (response.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    const declaredFormat = DECLARED_FORMATS[declared];
    if (!declaredFormat && !UNTYPED.has(declared)) {
      await response.body?.cancel().catch(() => {});
      throw fail(`content type ${declared} is not an image this client accepts`, false);
    }
    const length = Number(response.headers.get('content-length'));
    if (length > maxBytes) {
      await response.body?.cancel().catch(() => {});
      throw fail(`${length} bytes is over the ${maxBytes}-byte limit`, false);
    }
    reader = response.body?.getReader();
    head = await readHead(reader, Math.min(SNIFF_BYTES, maxBytes + 1));
    if (head.byteLength > maxBytes) {
      throw fail(`the body is over the ${maxBytes}-byte limit`, false);
    }
    const sniffed = sniffImageFormat(head);
    if (!sniffed) throw fail('the body is not a PNG, JPEG or WebP image', false);
    if (declaredFormat && declaredFormat !== sniffed) {
      throw fail(`declared ${declared} but the bytes are ${sniffed}`, false);
    }
    format = sniffed;
  } catch (error) {
    await reader?.cancel().catch(() => {});
    throw failure(error);
  }
  const body = cappedBody(reader, head, maxBytes, {
    tooLarge: () => fail(`the body is over the ${maxBytes}-byte limit`, false),
    failure,
  });
  try {
    return await consume({ url, format, contentType: CONTENT_TYPES[format], body });
  } finally {
    await reader?.cancel().catch(() => {});
  }
}

/** The first `count` bytes of the body (fewer if it ends sooner), as one array. */
async function readHead(
  reader: ReadableStreamDefaultReader<Uint8Array> | undefined,
  count: number,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (reader && size < count) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  return concatBytes(chunks, size);
}

async function* cappedBody(
  reader: ReadableStreamDefaultReader<Uint8Array> | undefined,
  head: Uint8Array,
  maxBytes: number,
  errors: { tooLarge: () => Error; failure: (error: unknown) => Error },
): AsyncGenerator<Uint8Array> {
  let size = head.byteLength;
  if (size > 0) yield head;
  while (reader) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch (error) {
      throw errors.failure(error);
    }
    if (chunk.done) return;
    size += chunk.value.byteLength;
    if (size > maxBytes) throw errors.tooLarge();
    yield chunk.value;
  }
}

/** Reads a checked download's whole body into memory. */
export async function collectImage(image: ImageDownload): Promise<DownloadedImage> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of image.body) {
    chunks.push(chunk);
    size += chunk.byteLength;
  }
  const { url, format, contentType } = image;
  return { url, format, contentType, bytes: concatBytes(chunks, size) };
}

/** Downloads one media URL into memory. Every failure is a DownloadError, AbortError or TimeoutError. */
export function downloadImage(
  url: string,
  options: DownloadOptions = {},
): Promise<DownloadedImage> {
  return streamImage(url, collectImage, options);
}

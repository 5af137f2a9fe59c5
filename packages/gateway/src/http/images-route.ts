/**
 * GET /images/<jobId>/<fileName>: a stored image, streamed from the image store (a local
 * directory or S3) by the gateway itself. File names are random and never reused, so the
 * answer may be cached forever, has a strong ETag (the name) and honours conditional GETs and
 * single byte ranges. Names the store does not make are 404 before anything is looked up; an
 * image deleted by retention is 410 Gone; a store that cannot answer is 503, at once.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Logger } from '../domain/logger.ts';
import { type ImageStore, imageContentType, isImageName } from '../images/image-store.ts';
import type { Store } from '../store/store.ts';
import { notModified, requestedRange, type Validators } from './byte-range.ts';
import { methodNotAllowed, sendText } from './respond.ts';

export const IMAGES_PREFIX = '/images/';

const IMMUTABLE = 'public, max-age=31536000, immutable';

export interface ImagesRouteDeps {
  images: ImageStore;
  store: Pick<Store, 'getJob'>;
  logger: Logger;
}

export function createImagesRoute({ images, store, logger }: ImagesRouteDeps) {
  const unavailable = (res: ServerResponse, error: unknown) => {
    logger.warn({ err: error }, 'image store unavailable');
    sendText(res, 503, 'Image store unavailable\n', { 'retry-after': '5' });
  };

  /** 410 once retention deleted the job's images, else 404. */
  async function missing(res: ServerResponse, jobId: string) {
    const job = await store.getJob(jobId);
    if (job?.imagesExpiredAt) {
      return sendText(res, 410, 'Gone: this image was deleted by the retention policy\n');
    }
    sendText(res, 404, 'Not Found\n');
  }

  return async (req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return methodNotAllowed(res, ['GET', 'HEAD']);
    const [jobId = '', fileName = '', ...rest] = pathname.slice(IMAGES_PREFIX.length).split('/');
    const contentType = imageContentType(fileName);
    if (rest.length > 0 || !isImageName(jobId, fileName) || contentType === null) {
      return sendText(res, 404, 'Not Found\n');
    }
    let info: Awaited<ReturnType<ImageStore['stat']>>;
    try {
      info = await images.stat(jobId, fileName);
    } catch (error) {
      return unavailable(res, error);
    }
    if (info === null) return missing(res, jobId);

    const validators: Validators = {
      etag: `"${fileName.replace(/\.\w+$/, '')}"`,
      lastModified: info.lastModified,
    };
    const headers = {
      'content-type': contentType,
      'cache-control': IMMUTABLE,
      'accept-ranges': 'bytes',
      etag: validators.etag,
      'last-modified': validators.lastModified.toUTCString(),
      'x-content-type-options': 'nosniff',
    };
    if (notModified(req.headers, validators)) {
      const { 'content-type': _type, 'x-content-type-options': _sniff, ...rest304 } = headers;
      res.writeHead(304, rest304);
      return void res.end();
    }
    const range = requestedRange(req.headers, info.size, validators);
    if (range === 'unsatisfiable') {
      return sendText(res, 416, 'Range Not Satisfiable\n', {
        'content-range': `bytes */${info.size}`,
      });
    }
    const status = range ? 206 : 200;
    const length = range ? range.end - range.start + 1 : info.size;
    const rangeHeaders = range
      ? { 'content-range': `bytes ${range.start}-${range.end}/${info.size}` }
      : {};
    if (req.method === 'HEAD') {
      res.writeHead(status, { ...headers, ...rangeHeaders, 'content-length': length });
      return void res.end();
    }
    let body: Awaited<ReturnType<ImageStore['read']>>;
    try {
      body = await images.read(jobId, fileName, range ?? undefined);
    } catch (error) {
      return unavailable(res, error);
    }
    // Deleted between the two calls (retention).
    if (body === null) return missing(res, jobId);
    res.writeHead(status, { ...headers, ...rangeHeaders, 'content-length': length });
    // A client that disconnects mid-image, or a store that fails mid-stream, ends the answer.
    await pipeline(body, res).catch(() => res.destroy());
  };
}

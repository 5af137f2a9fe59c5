/**
 * GET /images/<jobId>/<fileName>: a stored image. File names are random and never reused, so
 * the answer may be cached forever; names the image store does not make are 404 before any
 * path is built from them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ImageStore, imageContentType } from '../jobs/image-store.ts';
import { methodNotAllowed, sendText } from './respond.ts';
import { serveFile } from './serve-file.ts';

export const IMAGES_PREFIX = '/images/';

export function createImagesRoute(images: ImageStore) {
  return async (req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return methodNotAllowed(res, ['GET', 'HEAD']);
    const [jobId, fileName, ...rest] = pathname.slice(IMAGES_PREFIX.length).split('/');
    const path = jobId && fileName && rest.length === 0 ? images.resolve(jobId, fileName) : null;
    const contentType = fileName ? imageContentType(fileName) : null;
    if (path === null || contentType === null) return sendText(res, 404, 'Not Found\n');
    await serveFile(req, res, path, {
      'content-type': contentType,
      'cache-control': 'public, max-age=31536000, immutable',
    });
  };
}

/**
 * Generated images, kept under DATA_DIR/images/<jobId>/<random>.<ext> so that they outlive the
 * Pixazo CDN link. File names are random (unguessable) and checked against a strict pattern
 * before any path is built from them, so a request path can never leave the images directory.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { StoredImage } from '../domain/job.ts';

export interface ImageStore {
  /** Reads the image's format and size, then writes it atomically (temp file, then rename). */
  save(jobId: string, bytes: Uint8Array): Promise<StoredImage>;
  /** Absolute path of a stored image, or null when the names are not ones this store makes. */
  resolve(jobId: string, fileName: string): string | null;
  /**
   * Deletes the named images of a job: those one attempt saved for a job that ended otherwise
   * meanwhile. Only its own: another instance's attempt at the same job may have won and saved
   * its images in the same (shared) directory.
   */
  remove(jobId: string, fileNames: readonly string[]): Promise<void>;
}

const FORMATS = {
  png: { extension: 'png', contentType: 'image/png' },
  jpeg: { extension: 'jpg', contentType: 'image/jpeg' },
  webp: { extension: 'webp', contentType: 'image/webp' },
} as const;

const JOB_ID_PATTERN = /^job_[A-Za-z0-9]{1,64}$/;
/** 16 random bytes in base64url, and one of the extensions above. */
const FILE_NAME_PATTERN = /^[A-Za-z0-9_-]{22}\.(png|jpg|webp)$/;

/** The image's URL path on the gateway (relative; the GraphQL layer adds the public origin). */
export function imageUrlPath(jobId: string, fileName: string): string {
  return `/images/${jobId}/${fileName}`;
}

/** The Content-Type to serve a stored image with, from its extension; null for other names. */
export function imageContentType(fileName: string): string | null {
  const extension = FILE_NAME_PATTERN.exec(fileName)?.[1];
  const format = Object.values(FORMATS).find((f) => f.extension === extension);
  return format?.contentType ?? null;
}

export function createImageStore(options: { dataDir: string }): ImageStore {
  const root = path.resolve(options.dataDir, 'images');

  const jobDir = (jobId: string): string => {
    if (!JOB_ID_PATTERN.test(jobId)) throw new Error(`Not a job id: ${JSON.stringify(jobId)}`);
    return path.join(root, jobId);
  };

  return {
    async save(jobId, bytes) {
      const dir = jobDir(jobId);
      const { format, width, height } = await sharp(bytes).metadata();
      const known = format in FORMATS ? FORMATS[format as keyof typeof FORMATS] : undefined;
      if (!known || !width || !height) {
        throw new Error(`Not a PNG, JPEG or WebP image (sharp read format ${format})`);
      }
      const fileName = `${randomBytes(16).toString('base64url')}.${known.extension}`;
      await mkdir(dir, { recursive: true });
      // A reader of /images never sees a half-written file: the name appears only once complete.
      const temporary = path.join(dir, `.${fileName}.tmp`);
      await writeFile(temporary, bytes);
      await rename(temporary, path.join(dir, fileName));
      return {
        fileName,
        width,
        height,
        contentType: known.contentType,
        byteLength: bytes.byteLength,
      };
    },

    resolve(jobId, fileName) {
      if (!JOB_ID_PATTERN.test(jobId) || !FILE_NAME_PATTERN.test(fileName)) return null;
      return path.join(root, jobId, fileName);
    },

    async remove(jobId, fileNames) {
      const dir = jobDir(jobId);
      for (const fileName of fileNames) {
        if (!FILE_NAME_PATTERN.test(fileName)) throw new Error(`Not an image name: ${fileName}`);
        await rm(path.join(dir, fileName), { force: true });
      }
    },
  };
}

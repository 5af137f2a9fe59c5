/**
 * Generated images, copied from Pixazo so that they outlive its CDN link, in one of two
 * backends (`ImageBackend`): a local directory (`local-backend.ts`) or an S3-compatible bucket
 * (`s3-backend.ts`). Both hold `<jobId>/<fileName>`; file names are random (unguessable),
 * never reused, and checked against a strict pattern before any key is built from them, so a
 * request path can never name anything else. The store itself streams: an image is staged to
 * a local temporary file (to read its format and size, and to give S3 an exact
 * Content-Length), then handed to the backend, and is read back as a stream. Given metadata
 * (the job's prompt and parameters), the staged bytes get it written in (embed-metadata.ts)
 * before the backend sees them, so either backend stores, sizes and serves the tagged file.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import sharp from 'sharp';
import type { StoredImage } from '../domain/job.ts';
import type { Logger } from '../domain/logger.ts';
import type { Metrics } from '../metrics.ts';
import { embedMetadata, type ImageMetadata } from './embed-metadata.ts';

/** What a backend knows of one stored object. */
export interface ObjectInfo {
  size: number;
  lastModified: Date;
}

/** Inclusive byte range, as in HTTP. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Where the bytes are. Keys are `<jobId>/<fileName>`, already checked. Every method throws
 * ImageStoreUnavailableError when the backend cannot answer (down, refused, timed out).
 */
export interface ImageBackend {
  /** Stores the staged file's `size` bytes under `key`; may move the file away. */
  put(key: string, file: string, size: number, contentType: string): Promise<void>;
  /** null when there is no such object. */
  head(key: string): Promise<ObjectInfo | null>;
  /** The object's bytes (those of `range` when given); null when there is no such object. */
  read(key: string, range?: ByteRange): Promise<Readable | null>;
  /** Deletes the objects; absent ones are no error. */
  delete(keys: readonly string[]): Promise<void>;
  /** Every object under `prefix` (all of them for ''), page by page. */
  list(prefix: string): AsyncIterable<{ key: string; size: number }>;
  close(): Promise<void>;
}

export class ImageStoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ImageStoreUnavailableError';
  }
}

export interface ImageUsage {
  objects: number;
  bytes: number;
}

export interface ImageStore {
  /**
   * Streams one image into the store under a new name of this job, with `metadata` written
   * into the file when given (a file it cannot be written into is stored as it came).
   */
  save(
    jobId: string,
    body: AsyncIterable<Uint8Array> | Uint8Array,
    metadata?: ImageMetadata,
  ): Promise<StoredImage>;
  /** null for names this store does not make, and for images it does not hold. */
  stat(jobId: string, fileName: string): Promise<ObjectInfo | null>;
  /** The image's bytes as a stream; null as for stat. */
  read(jobId: string, fileName: string, range?: ByteRange): Promise<Readable | null>;
  /**
   * Deletes the named images of a job: those one attempt saved for a job that ended otherwise
   * meanwhile. Only its own: another attempt at the same job (webhook vs poll, another
   * instance) may have won and saved its images beside them.
   */
  remove(jobId: string, fileNames: readonly string[]): Promise<void>;
  /** Deletes every image of the job (retention), including any an attempt left behind. */
  removeJob(jobId: string): Promise<ImageUsage>;
  /** What the store holds, by listing it. */
  usage(): Promise<ImageUsage>;
  close(): Promise<void>;
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

/** Whether these are names this store makes (so a key may be built from them). */
export function isImageName(jobId: string, fileName: string): boolean {
  return JOB_ID_PATTERN.test(jobId) && FILE_NAME_PATTERN.test(fileName);
}

const jobPrefix = (jobId: string) => {
  if (!JOB_ID_PATTERN.test(jobId)) throw new Error(`Not a job id: ${JSON.stringify(jobId)}`);
  return `${jobId}/`;
};

export interface ImageStoreOptions {
  /** A local directory for images on their way in (created when needed). */
  stagingDir: string;
  metrics?: Pick<Metrics, 'imageStoreError'> | undefined;
  logger?: Logger | undefined;
}

export function createImageStore(backend: ImageBackend, options: ImageStoreOptions): ImageStore {
  const { stagingDir, metrics, logger } = options;

  /** Runs a backend call, counting its failures by operation. */
  async function counted<T>(operation: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      metrics?.imageStoreError(operation);
      throw error;
    }
  }

  return {
    async save(jobId, body, metadata) {
      const prefix = jobPrefix(jobId);
      await mkdir(stagingDir, { recursive: true });
      const staged = path.join(stagingDir, `${randomBytes(12).toString('base64url')}.tmp`);
      try {
        await pipeline(
          body instanceof Uint8Array ? [body] : body,
          createWriteStream(staged, { flags: 'wx' }),
        );
        const { format, width, height } = await sharp(staged).metadata();
        const known = format in FORMATS ? FORMATS[format as keyof typeof FORMATS] : undefined;
        if (!known || !width || !height) {
          throw new Error(`Not a PNG, JPEG or WebP image (sharp read format ${format})`);
        }
        if (metadata) {
          const result = embedMetadata(await readFile(staged), metadata);
          if (result.embedded) await writeFile(staged, result.bytes);
          else logger?.debug({ jobId, reason: result.reason }, 'image stored without metadata');
        }
        const { size } = await stat(staged);
        const fileName = `${randomBytes(16).toString('base64url')}.${known.extension}`;
        await counted('put', () =>
          backend.put(`${prefix}${fileName}`, staged, size, known.contentType),
        );
        return { fileName, width, height, contentType: known.contentType, byteLength: size };
      } finally {
        await rm(staged, { force: true });
      }
    },

    stat(jobId, fileName) {
      if (!isImageName(jobId, fileName)) return Promise.resolve(null);
      return counted('head', () => backend.head(`${jobId}/${fileName}`));
    },

    read(jobId, fileName, range) {
      if (!isImageName(jobId, fileName)) return Promise.resolve(null);
      return counted('read', () => backend.read(`${jobId}/${fileName}`, range));
    },

    async remove(jobId, fileNames) {
      const prefix = jobPrefix(jobId);
      for (const fileName of fileNames) {
        if (!FILE_NAME_PATTERN.test(fileName)) throw new Error(`Not an image name: ${fileName}`);
      }
      if (fileNames.length === 0) return;
      await counted('delete', () => backend.delete(fileNames.map((name) => `${prefix}${name}`)));
    },

    async removeJob(jobId) {
      const prefix = jobPrefix(jobId);
      return counted('delete', async () => {
        const keys: string[] = [];
        let bytes = 0;
        for await (const object of backend.list(prefix)) {
          keys.push(object.key);
          bytes += object.size;
        }
        if (keys.length > 0) await backend.delete(keys);
        return { objects: keys.length, bytes };
      });
    },

    usage() {
      return counted('list', async () => {
        const usage = { objects: 0, bytes: 0 };
        for await (const object of backend.list('')) {
          usage.objects++;
          usage.bytes += object.size;
        }
        return usage;
      });
    },

    close: () => backend.close(),
  };
}

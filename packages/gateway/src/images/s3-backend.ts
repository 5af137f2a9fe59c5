/**
 * Images in an S3-compatible bucket (AWS S3, Cloudflare R2, MinIO, …) under
 * `images/<jobId>/<fileName>`, through the AWS SDK's S3 client, written for S3's real
 * semantics rather than a test server's leniency:
 * - uploads are one plain PUT of the staged file with its exact Content-Length, and checksums
 *   only where an operation requires one, so no `aws-chunked` framing is ever sent (servers
 *   that do not decode it would store the framing inside the object);
 * - listings follow continuation tokens to the end; deletes go 1,000 keys per request;
 * - at start the bucket must answer (wrong credentials stop start-up); a missing bucket is
 *   created, and "already exists / already yours" from a concurrent start counts as success;
 * - every call has connect and idle timeouts and one retry, so a store that is down fails
 *   fast (ImageStoreUnavailableError) instead of hanging a request.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { S3Settings } from '../config.ts';
import { type ImageBackend, ImageStoreUnavailableError } from './image-store.ts';

export interface S3BackendOptions extends S3Settings {
  /** Keys per ListObjectsV2 page; default 1,000 (S3's maximum). */
  pageSize?: number | undefined;
  /** Default 3 s to connect, 5 s without a byte either way. */
  timeouts?: { connectMs: number; idleMs: number } | undefined;
}

const KEY_PREFIX = 'images/';
const DELETE_BATCH = 1000;

/** S3's answer for a missing object or bucket. */
const isNotFound = (error: unknown) =>
  error instanceof S3ServiceException &&
  (error.$metadata.httpStatusCode === 404 ||
    error.name === 'NoSuchKey' ||
    error.name === 'NotFound');

function unavailable(what: string, error: unknown): ImageStoreUnavailableError {
  let reason = error instanceof Error ? error.message || error.name : String(error);
  if (error instanceof S3ServiceException) {
    const status = error.$metadata.httpStatusCode;
    // HEAD answers carry no error body: then the status alone tells what happened.
    const code = error.name === 'Unknown' ? '' : `${error.name} `;
    const hint =
      status === 403 ? ': access denied, check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY' : '';
    reason = `${code}(HTTP ${status ?? '?'})${hint}`;
  }
  return new ImageStoreUnavailableError(`S3 ${what} failed: ${reason}`, { cause: error });
}

/** Opens the bucket: it must answer with these credentials; a missing one is created. */
export async function openS3Backend(options: S3BackendOptions): Promise<ImageBackend> {
  const { bucket } = options;
  const timeouts = options.timeouts ?? { connectMs: 3_000, idleMs: 5_000 };
  const client = new S3Client({
    region: options.region,
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle,
    credentials: options.credentials,
    maxAttempts: 2,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // socketTimeout is the idle bound (requestTimeout would only warn unless told to throw,
    // and would also cut slow uploads of large images that are still making progress).
    requestHandler: { connectionTimeout: timeouts.connectMs, socketTimeout: timeouts.idleMs },
  });
  const call = async <T>(what: string, send: () => Promise<T>): Promise<T> => {
    try {
      return await send();
    } catch (error) {
      throw unavailable(what, error);
    }
  };

  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket })).catch(async (error: unknown) => {
      if (!isNotFound(error)) throw error;
      await client.send(new CreateBucketCommand({ Bucket: bucket })).catch((created: unknown) => {
        const alreadyThere =
          created instanceof S3ServiceException &&
          (created.name === 'BucketAlreadyOwnedByYou' || created.$metadata.httpStatusCode === 409);
        if (!alreadyThere) throw created;
      });
    });
  } catch (error) {
    client.destroy();
    throw unavailable(`opening bucket ${bucket}`, error);
  }

  return {
    async put(key, file, size, contentType) {
      await call('upload', () =>
        client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: KEY_PREFIX + key,
            Body: createReadStream(file),
            ContentLength: size,
            ContentType: contentType,
          }),
        ),
      );
    },

    async head(key) {
      try {
        const answer = await client.send(
          new HeadObjectCommand({ Bucket: bucket, Key: KEY_PREFIX + key }),
        );
        return {
          size: answer.ContentLength ?? 0,
          lastModified: answer.LastModified ?? new Date(0),
        };
      } catch (error) {
        if (isNotFound(error)) return null;
        throw unavailable('head', error);
      }
    },

    async read(key, range) {
      try {
        const answer = await client.send(
          new GetObjectCommand({
            Bucket: bucket,
            Key: KEY_PREFIX + key,
            Range: range ? `bytes=${range.start}-${range.end}` : undefined,
          }),
        );
        const body = answer.Body;
        if (!(body instanceof Readable)) throw new Error('the answer has no body stream');
        return body;
      } catch (error) {
        if (isNotFound(error)) return null;
        throw unavailable('read', error);
      }
    },

    async delete(keys) {
      for (let from = 0; from < keys.length; from += DELETE_BATCH) {
        const batch = keys.slice(from, from + DELETE_BATCH);
        const answer = await call('delete', () =>
          client.send(
            new DeleteObjectsCommand({
              Bucket: bucket,
              Delete: { Objects: batch.map((key) => ({ Key: KEY_PREFIX + key })), Quiet: true },
            }),
          ),
        );
        const failed = answer.Errors?.[0];
        if (failed) {
          throw new ImageStoreUnavailableError(
            `S3 delete failed for ${answer.Errors?.length} objects: ${failed.Code} (${failed.Key})`,
          );
        }
      }
    },

    async *list(prefix) {
      let token: string | undefined;
      do {
        const page = await call('list', () =>
          client.send(
            new ListObjectsV2Command({
              Bucket: bucket,
              Prefix: KEY_PREFIX + prefix,
              MaxKeys: options.pageSize,
              ContinuationToken: token,
            }),
          ),
        );
        for (const object of page.Contents ?? []) {
          if (object.Key)
            yield { key: object.Key.slice(KEY_PREFIX.length), size: object.Size ?? 0 };
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },

    close: async () => client.destroy(),
  };
}

/**
 * The image store's scenarios against a real S3-compatible server (s3rver, behind a proxy that
 * checks AWS signatures), and what only S3 has: credentials, buckets, an unreachable server.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ImageStoreUnavailableError } from '../src/images/image-store.ts';
import { openS3Backend, type S3BackendOptions } from '../src/images/s3-backend.ts';
import { startTestS3, type TestS3 } from './helpers/s3-server.ts';
import { startTcpProxy } from './helpers/tcp-proxy.ts';
import { imageStoreSuite } from './image-store.suite.ts';

let s3: TestS3;
let stagingRoot: string;
let bucket: string;

beforeAll(async () => {
  s3 = await startTestS3();
  stagingRoot = await mkdtemp(path.join(tmpdir(), 'zimage-staging-'));
});
afterAll(async () => {
  await s3?.close();
  await rm(stagingRoot, { recursive: true, force: true });
});

const newBucket = () => `zimage-${randomBytes(6).toString('hex')}`;
const options = (overrides: Partial<S3BackendOptions> = {}): S3BackendOptions => ({
  bucket,
  endpoint: s3.endpoint,
  region: s3.region,
  forcePathStyle: true,
  credentials: s3.credentials,
  ...overrides,
});

let staging: string;
beforeEach(() => {
  bucket = newBucket();
  staging = path.join(stagingRoot, bucket);
});

imageStoreSuite('S3 (s3rver)', {
  open: (pageSize) => openS3Backend(options({ pageSize })),
  rawBytes: (key) => readFile(s3.storedFile(bucket, `images/${key}`)),
  stagingDir: () => staging,
});

describe('S3 backend', () => {
  it('refuses to start with a wrong secret or an unknown access key', async () => {
    const before = s3.refused;
    await expect(
      openS3Backend(options({ credentials: { ...s3.credentials, secretAccessKey: 'wrong' } })),
    ).rejects.toThrow(
      /opening bucket .* failed: \(HTTP 403\): access denied, check AWS_ACCESS_KEY_ID/,
    );
    await expect(
      openS3Backend(options({ credentials: { accessKeyId: 'AKIAUNKNOWN', secretAccessKey: 'x' } })),
    ).rejects.toThrow(/\(HTTP 403\): access denied/);
    expect(s3.refused).toBeGreaterThan(before);
  });

  it('creates a missing bucket once, however many instances open it at once', async () => {
    // All see it missing; all but one get 409 (BucketAlreadyOwnedByYou) from the create.
    const backends = await Promise.all([1, 2, 3].map(() => openS3Backend(options())));
    const again = await openS3Backend(options());
    for (const backend of [...backends, again]) await backend.close();
  });

  it('gives up on a server that accepts connections but never answers, within its timeouts', async () => {
    const target = new URL(s3.endpoint);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
    const backend = await openS3Backend(
      options({
        endpoint: proxy.url.replace(/^redis:/, 'http:'),
        timeouts: { connectMs: 500, idleMs: 500 },
      }),
    );
    try {
      proxy.hang();
      await expect(backend.head('job_x/AAAAAAAAAAAAAAAAAAAAAA.png')).rejects.toBeInstanceOf(
        ImageStoreUnavailableError,
      );
    } finally {
      await backend.close();
      await proxy.close();
    }
  });

  it('fails fast with ImageStoreUnavailableError while the server is unreachable', async () => {
    const target = new URL(s3.endpoint);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
    const endpoint = proxy.url.replace(/^redis:/, 'http:');
    const backend = await openS3Backend(options({ endpoint }));
    try {
      proxy.cut();
      await expect(backend.head('job_x/AAAAAAAAAAAAAAAAAAAAAA.png')).rejects.toBeInstanceOf(
        ImageStoreUnavailableError,
      );
      proxy.restore();
      expect(await backend.head('job_x/AAAAAAAAAAAAAAAAAAAAAA.png')).toBeNull();
    } finally {
      await backend.close();
      await proxy.close();
    }
  });
});

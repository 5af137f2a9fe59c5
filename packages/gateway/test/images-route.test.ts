/**
 * /images/… end to end, with each image store: a job completes through the simulator, its
 * image URLs serve exactly the stored bytes (whole, in ranges, conditionally): Pixazo's
 * pixels, not re-encoded, with the job's prompt and parameters written in. Retention then
 * deletes them (410 Gone, `imagesExpiredAt` set), and an S3 store that is down answers 503.
 */
import { buffer } from 'node:stream/consumers';
import { PixazoClient } from '@zimage/core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageStoreConfig } from '../src/config.ts';
import {
  type GatewayHarness,
  GENERATE,
  SIM_KEY,
  startGatewayHarness,
} from './helpers/gateway-harness.ts';
import { startTestS3, type TestS3 } from './helpers/s3-server.ts';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.ts';

let s3: TestS3;
/** Between the gateway and the S3 server, to take the store down. */
let s3Proxy: TcpProxy;
beforeAll(async () => {
  s3 = await startTestS3();
  const { hostname, port } = new URL(s3.endpoint);
  s3Proxy = await startTcpProxy({ host: hostname, port: Number(port) });
});
afterAll(async () => {
  await s3Proxy?.close();
  await s3?.close();
});

interface Image {
  url: string;
  contentType: string;
}
interface Job {
  id: string;
  status: string;
  requestId: string;
  completedAt: string;
  imagesExpiredAt: string | null;
  images: Image[];
}

const JOB = `query ($id: ID!) { job(id: $id) { id status requestId completedAt imagesExpiredAt images { url contentType } } }`;

const stores: [string, () => ImageStoreConfig][] = [
  ['local', () => ({ kind: 'local' })],
  [
    's3',
    () => ({
      kind: 's3',
      bucket: 'zimage-images',
      endpoint: s3Proxy.url.replace(/^redis:/, 'http:'),
      region: s3.region,
      forcePathStyle: true,
      credentials: s3.credentials,
    }),
  ],
];

describe.each(stores)('/images with the %s store', (kind, imageStore) => {
  let h: GatewayHarness;
  let key: string;
  let job: Job;
  /** What Pixazo served for each of the job's images, in order. */
  let pixazoBytes: Buffer[];
  /** What the store holds for each, read from it directly. */
  let storedBytes: Buffer[];
  const prompt = `kept in ${kind}: "fox" <&> café 🦊`;

  beforeAll(async () => {
    h = await startGatewayHarness({
      imageStore: imageStore(),
      // Short timeouts, so that the hanging store's 503 comes well within the test's time.
      s3Overrides: { pageSize: 1, timeouts: { connectMs: 500, idleMs: 500 } },
      // Everything ended is past retention, but only the test's sweep() runs it.
      imageRetention: { retentionMs: 0, intervalMs: 3_600_000 },
    });
    key = (await h.createKey()).secret;
    const { body } = await h.graphql(GENERATE, {
      key,
      variables: { input: { prompt, imageSize: 'SQUARE_1_1', numImages: 2 } },
    });
    const { id } = (body.data as { generateImage: { id: string } }).generateImage;
    await h.waitForTerminal(key, id);
    job = (await h.graphql(JOB, { key, variables: { id } })).body.data?.job as Job;
    const pixazo = new PixazoClient({ apiKey: SIM_KEY, baseUrl: h.sim.url });
    const status = await pixazo.getStatus(job.requestId);
    pixazoBytes = await Promise.all(
      status.mediaUrls.map(async (url) => Buffer.from((await pixazo.download(url)).bytes)),
    );
    storedBytes = await Promise.all(
      job.images.map(async (image) => {
        const stream = await h.gateway.images.read(job.id, image.url.split('/').pop() as string);
        if (stream === null) throw new Error(`not stored: ${image.url}`);
        return buffer(stream);
      }),
    );
  });
  afterAll(async () => {
    await h?.close();
  });

  it('serves exactly the stored bytes, streamed, with immutable caching and validators', async () => {
    expect(job).toMatchObject({ status: 'COMPLETED', imagesExpiredAt: null });
    expect(job.images).toHaveLength(2);
    for (const [index, image] of job.images.entries()) {
      const response = await fetch(image.url);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe(image.contentType);
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(response.headers.get('accept-ranges')).toBe('bytes');
      expect(response.headers.get('etag')).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
      expect(response.headers.get('last-modified')).toEqual(expect.any(String));
      const body = Buffer.from(await response.arrayBuffer());
      expect(body.equals(storedBytes[index] as Buffer)).toBe(true);
      expect(Number(response.headers.get('content-length'))).toBe(body.length);
    }
    const metrics = await (await fetch(`${h.gateway.url}/metrics`)).text();
    const total = storedBytes.reduce((sum, bytes) => sum + bytes.length, 0);
    expect(metrics).toMatch(/^zimage_images_stored_objects 2$/m);
    expect(metrics).toContain(`\nzimage_images_stored_bytes ${total}\n`);
  });

  it("serves Pixazo's pixels as they were, with the job's prompt and parameters written in", async () => {
    for (const [index, image] of job.images.entries()) {
      const served = Buffer.from(await (await fetch(image.url)).arrayBuffer());
      expect(served.equals(pixazoBytes[index] as Buffer)).toBe(false);
      const [pixels, pixazoPixels] = await Promise.all(
        [served, pixazoBytes[index] as Buffer].map((bytes) => sharp(bytes).raw().toBuffer()),
      );
      expect((pixels as Buffer).equals(pixazoPixels as Buffer)).toBe(true);
      const { comments, xmp } = await sharp(served).metadata();
      expect(comments).toContainEqual({ keyword: 'Description', text: prompt });
      expect(comments).toContainEqual({
        keyword: 'parameters',
        text: expect.stringContaining(`${prompt}\nmodel: Z_IMAGE_TURBO, imageSize: SQUARE_1_1,`),
      });
      expect(xmp?.toString()).toContain(`<zimage:jobId>${job.id}</zimage:jobId>`);
    }
  });

  it('answers byte ranges with 206, and 416 outside the image', async () => {
    const [image] = job.images as [Image];
    const bytes = storedBytes[0] as Buffer;
    const part = await fetch(image.url, { headers: { range: 'bytes=10-109' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 10-109/${bytes.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(10, 110))).toBe(true);

    const tail = await fetch(image.url, { headers: { range: 'bytes=-16' } });
    expect(tail.status).toBe(206);
    expect(Buffer.from(await tail.arrayBuffer()).equals(bytes.subarray(-16))).toBe(true);

    const open = await fetch(image.url, { headers: { range: `bytes=${bytes.length - 5}-` } });
    expect(Buffer.from(await open.arrayBuffer()).equals(bytes.subarray(-5))).toBe(true);

    const outside = await fetch(image.url, { headers: { range: `bytes=${bytes.length}-` } });
    expect(outside.status).toBe(416);
    expect(outside.headers.get('content-range')).toBe(`bytes */${bytes.length}`);

    // A range of a version the client no longer has: the whole image.
    const stale = await fetch(image.url, {
      headers: { range: 'bytes=0-9', 'if-range': '"other"' },
    });
    expect(stale.status).toBe(200);
    expect(Number(stale.headers.get('content-length'))).toBe(bytes.length);
    await stale.arrayBuffer();
  });

  it('answers conditional GETs with 304, and HEAD with the headers alone', async () => {
    const [image] = job.images as [Image];
    const first = await fetch(image.url, { method: 'HEAD' });
    expect(first.status).toBe(200);
    expect(Number(first.headers.get('content-length'))).toBe((storedBytes[0] as Buffer).length);
    const etag = first.headers.get('etag') as string;
    const lastModified = first.headers.get('last-modified') as string;

    const byTag = await fetch(image.url, { headers: { 'if-none-match': `"x", ${etag}` } });
    expect(byTag.status).toBe(304);
    expect(byTag.headers.get('etag')).toBe(etag);
    const byDate = await fetch(image.url, { headers: { 'if-modified-since': lastModified } });
    expect(byDate.status).toBe(304);
    const changed = await fetch(image.url, { headers: { 'if-none-match': '"other"' } });
    expect(changed.status).toBe(200);
    await changed.arrayBuffer();
  });

  if (kind === 's3') {
    it.each([
      ['refuses connections', () => s3Proxy.cut()],
      ['accepts connections but never answers', () => s3Proxy.hang()],
    ])(
      'answers 503, not a hang, while the store %s, and serves again after',
      async (_how, down) => {
        const [image] = job.images as [Image];
        down();
        try {
          const answer = await fetch(image.url);
          expect(answer.status).toBe(503);
          expect(answer.headers.get('retry-after')).toBe('5');
          await answer.arrayBuffer();
        } finally {
          s3Proxy.restore();
        }
        const again = await fetch(image.url);
        expect(again.status).toBe(200);
        await again.arrayBuffer();
        const metrics = await (await fetch(`${h.gateway.url}/metrics`)).text();
        expect(metrics).toMatch(/^zimage_image_store_errors_total\{operation="head"\} [1-9]/m);
      },
    );
  }

  it("expires the job's images after retention: 410 Gone and imagesExpiredAt set, once", async () => {
    const sweeper = h.gateway.imageSweeper;
    if (!sweeper) throw new Error('retention is configured');
    expect(await sweeper.sweep()).toEqual({ result: 'swept', expiredJobs: 1, deletedObjects: 2 });
    for (const image of job.images) {
      const gone = await fetch(image.url);
      expect(gone.status).toBe(410);
      await gone.arrayBuffer();
    }
    const expired = (await h.graphql(JOB, { key, variables: { id: job.id } })).body.data
      ?.job as Job;
    expect(Date.parse(expired.imagesExpiredAt as string)).toBeGreaterThanOrEqual(
      Date.parse(job.completedAt),
    );
    // Nothing left to do: the next sweep deletes nothing.
    expect(await sweeper.sweep()).toEqual({ result: 'swept', expiredJobs: 0, deletedObjects: 0 });
    expect(await h.gateway.images.usage()).toEqual({ objects: 0, bytes: 0 });
    const metrics = await (await fetch(`${h.gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/^zimage_image_sweeps_total\{result="swept"\} [2-9]/m);
    expect(metrics).toMatch(/^zimage_image_sweep_deleted_objects_total 2$/m);
  });
});

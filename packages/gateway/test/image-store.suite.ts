/**
 * The image store's scenarios, run against every backend (image-store.local.test.ts,
 * image-store.s3.test.ts). Stored bytes are compared with what was sent both through the
 * store and where the backend keeps them, so a backend that alters an object (aws-chunked
 * framing stored inside it) fails here; listings span several pages.
 */
import { readdir } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createImageStore,
  type ImageBackend,
  type ImageStore,
  imageContentType,
  imageUrlPath,
} from '../src/images/image-store.ts';

export interface ImageBackendFixture {
  /** A new, empty backend; listings in pages of at most `pageSize` objects. */
  open(pageSize: number): Promise<ImageBackend>;
  /** The bytes the backend keeps for the key `<jobId>/<fileName>`, read where it keeps them. */
  rawBytes(key: string): Promise<Buffer>;
  /** A local directory for the store's staging. */
  stagingDir(): string;
}

const JOB_ID = 'job_0192f0c4a1b27c3d8e9f001122334455';
const OTHER_JOB_ID = 'job_0192f0c4a1b27c3d8e9f0011223344ff';
const PAGE_SIZE = 2;

export function image(format: 'png' | 'jpeg' | 'webp', width: number, height: number) {
  return sharp({ create: { width, height, channels: 3, background: '#336699' } })
    .toFormat(format)
    .toBuffer();
}

/** A PNG of noise, so it does not compress: over 50,000 bytes. */
export function largePng(): Promise<Buffer> {
  return sharp({
    create: {
      width: 160,
      height: 120,
      channels: 3,
      background: '#000',
      noise: { type: 'gaussian', mean: 128, sigma: 60 },
    },
  })
    .png()
    .toBuffer();
}

async function* inChunks(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function readAll(stream: Readable | null): Promise<Buffer> {
  if (stream === null) throw new Error('no such image');
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

export function imageStoreSuite(name: string, fixture: ImageBackendFixture): void {
  describe(`image store (${name})`, () => {
    let images: ImageStore;

    beforeEach(async () => {
      images = createImageStore(await fixture.open(PAGE_SIZE), {
        stagingDir: fixture.stagingDir(),
      });
    });

    afterEach(async () => {
      await images.close();
    });

    it.each([
      ['png', 'image/png', /\.png$/],
      ['jpeg', 'image/jpeg', /\.jpg$/],
      ['webp', 'image/webp', /\.webp$/],
    ] as const)(
      'saves a %s with its size and type, and keeps its exact bytes',
      async (format, type, ext) => {
        const bytes = await image(format, 64, 48);
        const stored = await images.save(JOB_ID, bytes);
        expect(stored).toMatchObject({
          width: 64,
          height: 48,
          contentType: type,
          byteLength: bytes.length,
        });
        expect(stored.fileName).toMatch(ext);
        expect(await readAll(await images.read(JOB_ID, stored.fileName))).toEqual(bytes);
        expect(await fixture.rawBytes(`${JOB_ID}/${stored.fileName}`)).toEqual(bytes);
        expect(await images.stat(JOB_ID, stored.fileName)).toMatchObject({ size: bytes.length });
        expect(imageContentType(stored.fileName)).toBe(type);
        expect(imageUrlPath(JOB_ID, stored.fileName)).toBe(`/images/${JOB_ID}/${stored.fileName}`);
      },
    );

    it('streams a large image in from small chunks and stores exactly its bytes', async () => {
      const bytes = await largePng();
      expect(bytes.length).toBeGreaterThan(50_000);
      const stored = await images.save(JOB_ID, inChunks(bytes, 4096));
      expect(stored.byteLength).toBe(bytes.length);
      const raw = await fixture.rawBytes(`${JOB_ID}/${stored.fileName}`);
      expect(raw.length).toBe(bytes.length);
      expect(raw.equals(bytes)).toBe(true);
    });

    it('reads a byte range', async () => {
      const bytes = await largePng();
      const stored = await images.save(JOB_ID, bytes);
      const part = await readAll(
        await images.read(JOB_ID, stored.fileName, { start: 100, end: 1099 }),
      );
      expect(part).toEqual(bytes.subarray(100, 1100));
    });

    it('gives every image its own unguessable name', async () => {
      const bytes = await image('png', 8, 8);
      const a = await images.save(JOB_ID, bytes);
      const b = await images.save(JOB_ID, bytes);
      expect(a.fileName).not.toBe(b.fileName);
    });

    it('refuses bytes that are not a PNG, JPEG or WebP image, and keeps nothing of them', async () => {
      await expect(images.save(JOB_ID, new TextEncoder().encode('<svg/>'))).rejects.toThrow();
      const gif = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#000' } })
        .gif()
        .toBuffer();
      await expect(images.save(JOB_ID, gif)).rejects.toThrow(/PNG, JPEG or WebP/);
      expect(await images.usage()).toEqual({ objects: 0, bytes: 0 });
      expect(await readdir(fixture.stagingDir())).toEqual([]);
    });

    it('keeps nothing of a stream that fails midway', async () => {
      const bytes = await largePng();
      async function* failing() {
        yield bytes.subarray(0, 1000);
        throw new Error('connection reset');
      }
      await expect(images.save(JOB_ID, failing())).rejects.toThrow('connection reset');
      expect(await images.usage()).toEqual({ objects: 0, bytes: 0 });
      expect(await readdir(fixture.stagingDir())).toEqual([]);
    });

    it.each([
      [JOB_ID, '../../secret.png'],
      [JOB_ID, 'AAAAAAAAAAAAAAAAAAAAAA.png/..'],
      [JOB_ID, '.AAAAAAAAAAAAAAAAAAAAAA.png.tmp'],
      [JOB_ID, 'AAAAAAAAAAAAAAAAAAAAAA.svg'],
      ['..', 'AAAAAAAAAAAAAAAAAAAAAA.png'],
      ['job_../x', 'AAAAAAAAAAAAAAAAAAAAAA.png'],
      [`${JOB_ID}/..`, 'AAAAAAAAAAAAAAAAAAAAAA.png'],
    ])('finds nothing for %j / %j', async (jobId, fileName) => {
      expect(await images.stat(jobId, fileName)).toBeNull();
      expect(await images.read(jobId, fileName)).toBeNull();
    });

    it('finds nothing for a well-formed name it never stored', async () => {
      expect(await images.stat(JOB_ID, 'AAAAAAAAAAAAAAAAAAAAAA.png')).toBeNull();
      expect(await images.read(JOB_ID, 'AAAAAAAAAAAAAAAAAAAAAA.png')).toBeNull();
    });

    it("removes the images one attempt saved, and keeps another attempt's images of the job", async () => {
      const loser = await images.save(JOB_ID, await image('png', 8, 8));
      const winner = await images.save(JOB_ID, await image('png', 8, 8));
      await images.remove(JOB_ID, [loser.fileName]);
      expect(await images.stat(JOB_ID, loser.fileName)).toBeNull();
      expect(await images.stat(JOB_ID, winner.fileName)).toMatchObject({ size: winner.byteLength });
    });

    it('refuses to remove a name this store does not make', async () => {
      await expect(images.remove(JOB_ID, ['../secret.png'])).rejects.toThrow(/Not an image name/);
    });

    it("removes all of a job's images over several listing pages, and no other job's", async () => {
      const bytes = await image('png', 8, 8);
      const saved = [];
      for (let i = 0; i < 2 * PAGE_SIZE + 1; i++) saved.push(await images.save(JOB_ID, bytes));
      const other = await images.save(OTHER_JOB_ID, bytes);
      expect(await images.usage()).toEqual({
        objects: saved.length + 1,
        bytes: (saved.length + 1) * bytes.length,
      });
      expect(await images.removeJob(JOB_ID)).toEqual({
        objects: saved.length,
        bytes: saved.length * bytes.length,
      });
      for (const { fileName } of saved) expect(await images.stat(JOB_ID, fileName)).toBeNull();
      expect(await images.stat(OTHER_JOB_ID, other.fileName)).toMatchObject({ size: bytes.length });
      expect(await images.usage()).toEqual({ objects: 1, bytes: bytes.length });
      expect(await images.removeJob(JOB_ID)).toEqual({ objects: 0, bytes: 0 });
    });
  });
}
